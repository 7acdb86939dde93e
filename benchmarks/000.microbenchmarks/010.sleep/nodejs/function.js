'use strict'
/**
 * 010.sleep: sleeps for event.sleep seconds and returns that number.
 * SeBS's Node version starts the timer without awaiting it and returns at
 * once; this one really waits.
 */
const { setTimeout: sleepMs } = require('timers/promises')

exports.handler = async function (event) {
  const sleep = event.sleep
  if (typeof sleep !== 'number' || !Number.isFinite(sleep) || sleep < 0) {
    throw new Error(`event.sleep must be a non-negative number of seconds, got ${JSON.stringify(sleep)}`)
  }
  await sleepMs(sleep * 1000)
  return { result: sleep }
}
