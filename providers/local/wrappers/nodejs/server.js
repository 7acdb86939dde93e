'use strict'
/**
 * Local provider HTTP trigger (Node.js): one process = one function instance.
 *
 * Listens on 127.0.0.1 with a random port, accepts `POST /` with a JSON event
 * and answers with the JSON envelope from handler.js. Prints exactly one line
 * `SEBS_READY <port>` on stdout once it listens: the provider waits for it.
 *
 * The provider keeps this process's stdin open as a lifeline: when the
 * harness process dies (even by SIGKILL) stdin reaches EOF and the instance
 * exits instead of lingering (SEBS_EXIT_ON_STDIN_EOF=1).
 */
const http = require('http')
const crypto = require('crypto')
const { handle } = require('./handler.js')

function send(res, status, body) {
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  })
  res.end(body)
}

function serialize(envelope) {
  try {
    return JSON.stringify(envelope)
  } catch (err) {
    // A result that JSON cannot represent (BigInt, cycles) is the function's error, not the server's.
    return JSON.stringify({
      ...envelope,
      result: null,
      measurement: undefined,
      error: { type: 'SerializationError', message: `the handler's return value is not JSON-serializable: ${err.message}` },
    })
  }
}

const server = http.createServer((req, res) => {
  if (req.url !== '/' || req.method !== 'POST') {
    send(res, 404, JSON.stringify({ message: `only POST / is served, not ${req.method} ${req.url}` }))
    return
  }
  const chunks = []
  req.on('data', (chunk) => chunks.push(chunk))
  req.on('end', () => {
    let event
    try {
      const text = Buffer.concat(chunks).toString('utf8')
      event = text.length === 0 ? {} : JSON.parse(text)
    } catch (err) {
      send(res, 400, JSON.stringify({ message: `request body is not JSON: ${err.message}` }))
      return
    }
    const header = req.headers['x-sebs-request-id']
    const requestId = typeof header === 'string' && header.length > 0 ? header : crypto.randomUUID()
    handle(event, requestId).then(
      (envelope) => send(res, 200, serialize(envelope)),
      (err) => send(res, 500, JSON.stringify({ message: `wrapper failure: ${err && err.stack ? err.stack : err}` })),
    )
  })
})

// Functions may run for minutes (a configured timeout up to 900 s); the
// provider enforces the timeout, so the server must not cut requests itself.
server.requestTimeout = 0
server.headersTimeout = 0
// Idle keep-alive sockets stay open: closing them server-side races with the
// client reusing them (ECONNRESET on the next invocation).
server.keepAliveTimeout = 0

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`SEBS_READY ${server.address().port}\n`)
})

if (process.env.SEBS_EXIT_ON_STDIN_EOF === '1') {
  process.stdin.on('end', () => process.exit(0))
  process.stdin.on('error', () => process.exit(0))
  process.stdin.resume()
}
