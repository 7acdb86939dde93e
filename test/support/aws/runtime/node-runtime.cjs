'use strict'
/**
 * A Lambda execution environment for Node.js, for the tests' fake Lambda:
 * loads the handler module once (the init phase), then serves invocations
 * one at a time, like Lambda's runtime interface client.
 *
 * argv: <code dir> <handler, e.g. handler.handler>
 * stdin: one JSON line per invocation {requestId, event, deadlineMs, functionName, functionArn, memory, logGroup}
 * fd 3: JSON lines {type: 'ready' | 'init-error' | 'result' | 'error', …}
 * stdout/stderr: the function's log output.
 */
const fs = require('fs')
const path = require('path')
const readline = require('readline')

const [codeDir, handlerSpec] = process.argv.slice(2)
const send = (msg) => fs.writeSync(3, JSON.stringify(msg) + '\n')

function describe(err) {
  if (err instanceof Error) {
    return { errorType: err.name || 'Error', errorMessage: err.message, trace: String(err.stack || '').split('\n') }
  }
  return { errorType: typeof err, errorMessage: String(err), trace: [] }
}

process.chdir(codeDir)
const dot = handlerSpec.lastIndexOf('.')
const moduleName = handlerSpec.slice(0, dot)
const exportName = handlerSpec.slice(dot + 1)
let handler
try {
  const mod = require(path.join(codeDir, moduleName))
  handler = mod[exportName]
  if (typeof handler !== 'function') {
    const err = new Error(`${handlerSpec} is undefined or not exported`)
    err.name = 'Runtime.HandlerNotFound'
    throw err
  }
} catch (err) {
  const d = describe(err)
  if (err && err.code === 'MODULE_NOT_FOUND') d.errorType = 'Runtime.ImportModuleError'
  send({ type: 'init-error', ...d })
  process.exit(1)
}
send({ type: 'ready' })

const rl = readline.createInterface({ input: process.stdin })
let queue = Promise.resolve()
rl.on('line', (line) => {
  queue = queue.then(async () => {
    const inv = JSON.parse(line)
    const context = {
      awsRequestId: inv.requestId,
      functionName: inv.functionName,
      functionVersion: '$LATEST',
      invokedFunctionArn: inv.functionArn,
      memoryLimitInMB: String(inv.memory),
      logGroupName: inv.logGroup,
      logStreamName: inv.logStream,
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => Math.max(0, inv.deadlineMs - Date.now()),
    }
    try {
      const result = await handler(inv.event, context)
      send({ type: 'result', requestId: inv.requestId, payload: JSON.stringify(result === undefined ? null : result) })
    } catch (err) {
      send({ type: 'error', requestId: inv.requestId, ...describe(err) })
    }
  })
})
rl.on('close', () => process.exit(0))
