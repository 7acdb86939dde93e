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

/**
 * SIGKILLs every process tagged with this instance's run and instance id
 * (daemons that left the process group too), then the group, this process
 * included: the harness that would have done it is gone.
 */
function killWhatThisInstanceStarted() {
  const fs = require('node:fs')
  const runId = process.env.SEBS_RUN_ID
  const instanceId = process.env.SEBS_INSTANCE_ID
  if (runId && instanceId && fs.existsSync('/proc')) {
    const tags = [`SEBS_RUN_ID=${runId}`, `SEBS_INSTANCE_ID=${instanceId}`]
    for (const name of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(name) || Number(name) === process.pid) continue
      let environ
      try {
        environ = fs.readFileSync(`/proc/${name}/environ`, 'latin1').split('\0')
      } catch {
        continue
      }
      if (tags.every((tag) => environ.includes(tag))) {
        try {
          process.kill(Number(name), 'SIGKILL')
        } catch {}
      }
    }
  }
  try {
    // Only when this process leads its group (the provider spawns it detached).
    // Never as pid 1 (a container's init): kill(-1) would mean "every process".
    if (process.pid > 1 && fs.readFileSync('/proc/self/stat', 'latin1').split(') ')[1].split(' ')[2] === String(process.pid)) {
      process.kill(-process.pid, 'SIGKILL')
    }
  } catch {}
}

if (process.env.SEBS_EXIT_ON_STDIN_EOF === '1') {
  const lifelineEnded = () => {
    killWhatThisInstanceStarted()
    process.exit(0)
  }
  process.stdin.on('end', lifelineEnded)
  process.stdin.on('error', lifelineEnded)
  process.stdin.resume()
}
