'use strict'
/**
 * 110.dynamic-html: renders an HTML page with a mustache template: a
 * greeting, the current time and a list of random_len random numbers.
 */
const fs = require('fs')
const path = require('path')
const Mustache = require('mustache')

// The template sits beside this module in the package, wherever that lands.
const TEMPLATE = path.join(__dirname, 'templates', 'template.html')
/** Numbers are drawn from [0, NUMBER_RANGE), the range the Python version samples. */
const NUMBER_RANGE = 1000000

function pad(n) {
  return String(n).padStart(2, '0')
}

/** Local time as `YYYY-MM-DD HH:MM:SS`, the format the Python version prints. */
function formatTime(date) {
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
  )
}

exports.handler = async function (event) {
  const username = event.username
  const size = event.random_len
  if (typeof username !== 'string') throw new Error(`event.username must be a string, got ${JSON.stringify(username)}`)
  if (!Number.isInteger(size) || size < 0 || size > NUMBER_RANGE) {
    throw new Error(`event.random_len must be an integer in [0, ${NUMBER_RANGE}], got ${JSON.stringify(size)}`)
  }
  const randomNumbers = new Array(size)
  for (let i = 0; i < size; i++) randomNumbers[i] = Math.floor(Math.random() * NUMBER_RANGE)
  const template = fs.readFileSync(TEMPLATE, 'utf8')
  const html = Mustache.render(template, {
    username,
    cur_time: formatTime(new Date()),
    random_numbers: randomNumbers,
  })
  return { result: html }
}
