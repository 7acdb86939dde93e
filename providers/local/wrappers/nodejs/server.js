'use strict'
/**
 * Local provider HTTP trigger (Node.js): one process = one function instance.
 *
 * Listens on 127.0.0.1 with a random port, accepts `POST /` with a JSON event
 * and answers with the JSON envelope from handler.js. Prints exactly one line
 * `SEBS_READY <port>` on stdout once it listens: the provider waits for it.
 *
 * HTTP/1.1 is spoken directly on `net` sockets, not through `http`: the
 * provider keeps one keep-alive connection per instance and sends one
 * request at a time with a Content-Length, so a plain loop (find the head,
 * read Content-Length bytes, answer in one write) serves it with a fraction
 * of http.createServer's per-request work (IncomingMessage/ServerResponse
 * objects and streams, Date header, header validation). Requests on one
 * connection are answered in order, one at a time (pipelined requests wait
 * for the previous answer); chunked request bodies are refused (501).
 *
 * The provider keeps this process's stdin open as a lifeline: when the
 * harness process dies (even by SIGKILL) stdin reaches EOF and the instance
 * exits instead of lingering (SEBS_EXIT_ON_STDIN_EOF=1).
 */
const net = require('net')
const crypto = require('crypto')
const { handle } = require('./handler.js')

/** The longest request head (request line and headers) accepted, bytes. */
const MAX_HEAD_BYTES = 65536
const REASONS = {
  100: 'Continue',
  200: 'OK',
  400: 'Bad Request',
  404: 'Not Found',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  505: 'HTTP Version Not Supported',
}
const HEAD_END = Buffer.from('\r\n\r\n', 'latin1')
const EMPTY = Buffer.alloc(0)
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

function message(text) {
  return JSON.stringify({ message: text })
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

/**
 * Writes one whole answer in a single write: a second segment for the body
 * would wake the client twice per invocation.
 */
function send(socket, status, body, connection) {
  if (socket.destroyed || !socket.writable) return
  const extra = connection === 'close' ? 'connection: close\r\n' : connection === 'keep-alive' ? 'connection: keep-alive\r\n' : ''
  socket.write(
    `HTTP/1.1 ${status} ${REASONS[status] || ''}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`,
    'utf8',
  )
}

/** Answers with an error and closes the connection: what follows on it cannot be trusted to be a request. */
function refuse(conn, status, text) {
  conn.closing = true
  send(conn.socket, status, message(text), 'close')
  conn.socket.end()
}

/**
 * Parses a request head (without its final blank line). Returns the request
 * or, for a malformed head, `{ status, error }`.
 */
function parseHead(head) {
  const lines = head.split('\r\n')
  const requestLine = lines[0]
  const first = requestLine.indexOf(' ')
  const last = requestLine.lastIndexOf(' ')
  if (first <= 0 || last <= first + 1 || last === requestLine.length - 1) {
    return { status: 400, error: `malformed request line: ${JSON.stringify(requestLine.slice(0, 200))}` }
  }
  const method = requestLine.slice(0, first)
  const path = requestLine.slice(first + 1, last)
  const version = requestLine.slice(last + 1)
  if (!TOKEN.test(method) || path.includes(' ') || !/^HTTP\/\d\.\d$/.test(version)) {
    return { status: 400, error: `malformed request line: ${JSON.stringify(requestLine.slice(0, 200))}` }
  }
  if (version !== 'HTTP/1.1' && version !== 'HTTP/1.0') {
    return { status: 505, error: `${version} is not served; send HTTP/1.1` }
  }
  const headers = Object.create(null)
  let contentLengths = 0
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]
    const colon = line.indexOf(':')
    const name = colon > 0 ? line.slice(0, colon).toLowerCase() : ''
    if (!TOKEN.test(name)) {
      return { status: 400, error: `malformed header line: ${JSON.stringify(line.slice(0, 200))}` }
    }
    const value = line.slice(colon + 1).trim()
    if (name === 'content-length') {
      contentLengths++
      if (contentLengths > 1 && headers[name] !== value) {
        return { status: 400, error: 'conflicting Content-Length headers' }
      }
    }
    // Repeated headers are joined as http.IncomingMessage joins them.
    headers[name] = name in headers && name !== 'content-length' ? `${headers[name]}, ${value}` : value
  }
  let length = 0
  if ('transfer-encoding' in headers) {
    return {
      status: 501,
      error: /chunked/i.test(headers['transfer-encoding'])
        ? 'chunked request bodies are not supported; send a Content-Length'
        : `Transfer-Encoding ${JSON.stringify(headers['transfer-encoding'])} is not supported; send the body as is with a Content-Length`,
    }
  }
  if ('content-length' in headers) {
    const text = headers['content-length']
    if (!/^\d{1,15}$/.test(text)) return { status: 400, error: `invalid Content-Length: ${JSON.stringify(text.slice(0, 40))}` }
    length = Number(text)
  }
  const tokens = (headers.connection || '').toLowerCase()
  const close = version === 'HTTP/1.1' ? /(^|,)\s*close\s*(,|$)/.test(tokens) : !/(^|,)\s*keep-alive\s*(,|$)/.test(tokens)
  // An HTTP/1.0 client keeps the connection only when the answer says so.
  const connection = close ? 'close' : version === 'HTTP/1.0' ? 'keep-alive' : undefined
  return { method, path, headers, length, connection }
}

/** (status, JSON text) for one complete request; may wait for the function. */
function answer(request, body) {
  if (request.method !== 'POST' || request.path !== '/') {
    return { status: 404, text: message(`only POST / is served, not ${request.method} ${request.path}`) }
  }
  let event
  try {
    const text = body.toString('utf8')
    event = text.length === 0 ? {} : JSON.parse(text)
  } catch (err) {
    return { status: 400, text: message(`request body is not JSON: ${err.message}`) }
  }
  const header = request.headers['x-sebs-request-id']
  const requestId = typeof header === 'string' && header.length > 0 ? header : crypto.randomUUID()
  return handle(event, requestId).then(
    (envelope) => ({ status: 200, text: serialize(envelope) }),
    (err) => ({ status: 500, text: message(`wrapper failure: ${err && err.stack ? err.stack : err}`) }),
  )
}

/**
 * One connection's parser state. Received data is kept as a list of chunks
 * (`pending`, `pendingBytes`) and joined once per request, so that a body of
 * tens of MB arriving in 64 KB reads is copied once, not once per read.
 */
function serveConnection(socket) {
  const conn = { socket, pending: [], pendingBytes: 0, request: null, busy: false, closing: false, ended: false, scanned: 0 }
  socket.on('data', (chunk) => {
    if (conn.closing) return
    conn.pending.push(chunk)
    conn.pendingBytes += chunk.length
    if (!conn.busy) pump(conn)
  })
  // Half-closed by the client after its request: the answer still goes out, then the connection ends.
  socket.on('end', () => {
    conn.ended = true
    if (!conn.busy) pump(conn)
  })
  // A client that resets the connection costs only that connection.
  socket.on('error', () => socket.destroy())
}

/** Joins the pending chunks into one buffer (a no-op for one chunk). */
function joined(conn) {
  if (conn.pending.length !== 1) conn.pending = [Buffer.concat(conn.pending, conn.pendingBytes)]
  return conn.pending[0]
}

function consume(conn, buffer, bytes) {
  if (bytes === buffer.length) {
    conn.pending = []
    conn.pendingBytes = 0
  } else {
    conn.pending = [buffer.subarray(bytes)]
    conn.pendingBytes = buffer.length - bytes
  }
}

/**
 * Parses and serves every complete request in the pending data, one at a
 * time: while the function runs, later data only accumulates, and the loop
 * goes on when the answer has been sent.
 */
function pump(conn) {
  const socket = conn.socket
  while (!conn.closing && !conn.busy) {
    if (conn.request === null) {
      if (conn.pendingBytes === 0) break
      const buffer = joined(conn)
      // Resume the search where the last incomplete head ended (3 bytes back: the marker may straddle reads).
      const end = buffer.indexOf(HEAD_END, Math.max(0, conn.scanned - 3))
      if (end < 0) {
        conn.scanned = buffer.length
        if (buffer.length > MAX_HEAD_BYTES) {
          refuse(conn, 431, `the request head exceeds ${MAX_HEAD_BYTES} bytes`)
        } else if (buffer.includes('\n\n')) {
          refuse(conn, 400, 'malformed request head: lines must end with CRLF')
        }
        break
      }
      conn.scanned = 0
      if (end > MAX_HEAD_BYTES) {
        refuse(conn, 431, `the request head exceeds ${MAX_HEAD_BYTES} bytes`)
        break
      }
      const request = parseHead(buffer.toString('latin1', 0, end))
      consume(conn, buffer, end + 4)
      if (request.error !== undefined) {
        refuse(conn, request.status, request.error)
        break
      }
      conn.request = request
      if (request.length > conn.pendingBytes && !conn.ended && /^100-continue$/i.test(request.headers.expect || '')) {
        socket.write('HTTP/1.1 100 Continue\r\n\r\n', 'latin1')
      }
    }
    const request = conn.request
    if (conn.pendingBytes < request.length) break
    let body = EMPTY
    if (request.length > 0) {
      const buffer = joined(conn)
      body = buffer.subarray(0, request.length)
      consume(conn, buffer, request.length)
    }
    conn.request = null
    let result
    try {
      result = answer(request, body)
    } catch (err) {
      result = { status: 500, text: message(`wrapper failure: ${err && err.stack ? err.stack : err}`) }
    }
    if (typeof result.then === 'function') {
      conn.busy = true
      result.then((done) => {
        conn.busy = false
        reply(conn, request, done)
        pump(conn)
      })
      return
    }
    reply(conn, request, result)
  }
  // The client has finished sending: an incomplete request left behind can never complete.
  if (conn.ended && !conn.busy && !conn.closing) {
    conn.closing = true
    socket.end()
  }
}

/** Sends one answer; closes the connection when the request asked for it. */
function reply(conn, request, result) {
  send(conn.socket, result.status, result.text, request.connection)
  if (request.connection === 'close') {
    conn.closing = true
    conn.socket.end()
  }
}

// No timeouts: functions may run for minutes (a configured timeout up to
// 900 s, which the provider enforces), and idle keep-alive connections stay
// open (closing them server-side races with the client reusing them).
// allowHalfOpen: a client that shuts down its side after the request still
// gets the answer.
const server = net.createServer({ noDelay: true, allowHalfOpen: true }, serveConnection)

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
