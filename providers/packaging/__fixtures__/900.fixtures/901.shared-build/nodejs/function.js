const isNumber = require('is-number')

exports.handler = async function (event) {
  return { result: isNumber(event.value) }
}
