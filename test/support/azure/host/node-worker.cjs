'use strict'
/**
 * A stand-in for the Azure Functions Node.js language worker (v3 programming
 * model), for the tests' fake function host: loads the function's scriptFile
 * once, then serves invocations with v3-shaped `context` and `req` objects.
 *
 * argv: <function dir> <scriptFile> [entryPoint]
 * stdin: one JSON line per invocation {id, invocationId, functionName, method, url, headers, body (base64)}
 * fd 3: JSON lines {type: 'ready' | 'init-error' | 'response' | 'error', ...}
 * stdout/stderr: the function's log output.
 */
const fs = require('fs')
const path = require('path')
const readline = require('readline')

const [functionDir, scriptFile, entryPoint] = process.argv.slice(2)
const send = (msg) => fs.writeSync(3, JSON.stringify(msg) + '\n')

let fn
try {
  const mod = require(path.resolve(functionDir, scriptFile))
  fn = entryPoint ? mod[entryPoint] : typeof mod === 'function' ? mod : mod.default || mod.run || mod.index
  if (typeof fn !== 'function') throw new Error(`${scriptFile} exports no function${entryPoint ? ` '${entryPoint}'` : ''}`)
} catch (err) {
  send({ type: 'init-error', message: String((err && err.stack) || err) })
  process.exit(1)
}
send({ type: 'ready' })

function makeLog() {
  const log = (...args) => console.log(...args)
  log.error = (...args) => console.error(...args)
  log.warn = (...args) => console.warn(...args)
  log.info = (...args) => console.info(...args)
  log.verbose = (...args) => console.debug(...args)
  return log
}

function responseOf(ret, context) {
  const res = ret !== undefined ? ret : context.res
  if (res === undefined || res === null) return { status: 204, headers: {}, body: '' }
  const headers = {}
  for (const [k, v] of Object.entries(res.headers || {})) headers[k.toLowerCase()] = String(v)
  let body = res.body
  if (body === undefined || body === null) body = ''
  if (Buffer.isBuffer(body)) body = body.toString('base64')
  else {
    if (typeof body !== 'string') {
      body = JSON.stringify(body)
      if (!headers['content-type']) headers['content-type'] = 'application/json'
    }
    body = Buffer.from(body, 'utf8').toString('base64')
  }
  return { status: Number(res.status || res.statusCode || 200), headers, body }
}

const rl = readline.createInterface({ input: process.stdin })
rl.on('line', async (line) => {
  const inv = JSON.parse(line)
  const rawBody = Buffer.from(inv.body || '', 'base64').toString('utf8')
  const headers = {}
  for (const [k, v] of Object.entries(inv.headers || {})) headers[k.toLowerCase()] = v
  let body = rawBody
  // The v3 worker parses JSON bodies into `body` and keeps the text in `rawBody`.
  if (/application\/json/i.test(headers['content-type'] || '')) {
    try {
      body = JSON.parse(rawBody)
    } catch {
      body = rawBody
    }
  }
  const url = new URL(inv.url, 'http://localhost')
  const req = {
    method: inv.method,
    url: inv.url,
    originalUrl: inv.url,
    headers,
    query: Object.fromEntries(url.searchParams),
    params: {},
    body,
    rawBody,
  }
  const context = {
    invocationId: inv.invocationId,
    executionContext: { invocationId: inv.invocationId, functionName: inv.functionName, functionDirectory: functionDir, retryContext: null },
    bindingData: { invocationId: inv.invocationId },
    bindings: { req },
    log: makeLog(),
    done() {},
    res: undefined,
  }
  try {
    const ret = await fn(context, req)
    send({ type: 'response', id: inv.id, ...responseOf(ret, context) })
  } catch (err) {
    send({ type: 'error', id: inv.id, message: String((err && err.stack) || err) })
  }
})
rl.on('close', () => process.exit(0))
