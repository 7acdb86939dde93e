/**
 * One invocation over an instance's HTTP trigger, shared by the process
 * runtime (instance.ts) and the container runtime (container/docker-instance.ts):
 * POST the event, parse the envelope, and turn every way it can go wrong
 * into an InstanceResponse (never a rejection). Runs where instances live
 * (the main process and bench workers).
 *
 * The client is a plain HTTP/1.1 exchange on one kept-alive TCP connection
 * (InstanceConnection), not node:http: an instance serves one request at a
 * time over one connection, and node:http's request and response objects,
 * agent bookkeeping and stream events cost a warm no-op invocation ~100 µs
 * of the client's CPU inside the timed window (a third of the whole round
 * trip on a quiet machine; docs/status.md, fifth session). The wire format
 * is unchanged, so the wrappers' servers (node:http-free loops themselves)
 * and any HTTP/1.1 server answer it.
 */
import { connect, type Socket } from 'node:net'
import { delay } from '../../core/delay.ts'
import { errorMessage } from '../../core/errors.ts'
import type { WrapperEnvelope } from '../../core/types.ts'
import type { InstanceInvocation, InstanceResponse } from './function-instance.ts'

/** What the request needs from the instance it goes to. */
export interface HttpInvokeTarget {
  /** The one kept-alive connection to the instance: an instance serves one request at a time. */
  connection: InstanceConnection
  /** `instance` or `container`: the word error messages use. */
  noun: string
  /** False once the instance has ended. */
  readonly alive: boolean
  /** Calls `listener` once when the instance ends; returns the unsubscribe. */
  onEnd(listener: () => void): () => void
  /** How the (ended) instance ended, as a response: exit status, OOM kill, … */
  endResponse(): InstanceResponse
  /** Resolves true once the instance has ended, false after `ms` if it has not. */
  waitForEnd(ms: number): Promise<boolean>
  /** Kills the instance (an invocation overran its timeout). */
  kill(): void
}

/** A target from an instance's parts: its port, its end listeners and the promise of its end. */
export function createHttpTarget(init: {
  port: number
  noun: string
  isAlive: () => boolean
  endListeners: Set<() => void>
  ended: Promise<unknown>
  endResponse: () => InstanceResponse
  kill: () => void
}): HttpInvokeTarget {
  return {
    connection: new InstanceConnection(init.port),
    noun: init.noun,
    get alive() {
      return init.isAlive()
    },
    onEnd: (listener) => {
      init.endListeners.add(listener)
      return () => init.endListeners.delete(listener)
    },
    endResponse: init.endResponse,
    waitForEnd: (ms) => Promise.race([init.ended.then(() => true), delay(ms, { unref: true }).then(() => false)]),
    kill: init.kill,
  }
}

/** An instance's answer: its HTTP status and body. */
export interface HttpAnswer {
  status: number
  body: Buffer
}

/** Bodies up to this size are sent in the same write as the head (one copy, one syscall); larger ones in a second write. */
const JOINED_WRITE_MAX = 64 * 1024
const CRLF_CRLF = Buffer.from('\r\n\r\n')

/**
 * One keep-alive HTTP/1.1 connection to an instance on loopback, opened on
 * first use and again after the instance (or a timeout) closed it. One
 * request at a time; `send` calls back with the answer or with the
 * socket's error or a protocol error. Unref'd: an idle connection does not
 * keep the process alive (a request in flight has its timeout timer, which
 * does).
 */
export class InstanceConnection {
  readonly #port: number
  #socket: Socket | undefined
  /** The exchange in flight: what to call with each chunk, the socket's end or its error. */
  #pending: { onData: (chunk: Buffer) => void; onFailure: (err: Error) => void } | undefined
  #destroyed = false

  constructor(port: number) {
    this.#port = port
  }

  /**
   * Sends `POST /` with the JSON body; `done` is called once, with the whole
   * answer or with the socket's error or a protocol error. `answeredAt` is
   * the hrtime (ns) at which the last byte was read: the client window ends
   * there, not after the callbacks and promise hops that deliver it (a
   * callback rather than a promise here: one hop fewer between two warm
   * samples).
   */
  send(body: string, requestId: string, done: (err: Error | undefined, answer?: HttpAnswer & { answeredAt: bigint }) => void): void {
    if (this.#destroyed) return done(new Error('the connection was closed'))
    if (this.#pending) return done(new Error('a request is already in flight on this connection'))
    const socket = this.#open()
    const reader = new AnswerReader()
    this.#pending = {
      onData: (chunk) => {
        let answer: HttpAnswer | undefined
        try {
          answer = reader.push(chunk)
        } catch (err) {
          this.#fail(err as Error)
          return
        }
        if (!answer) return
        const answeredAt = process.hrtime.bigint()
        this.#pending = undefined
        if (reader.closes) this.#drop()
        done(undefined, { status: answer.status, body: answer.body, answeredAt })
      },
      onFailure: (err) => {
        this.#pending = undefined
        done(err)
      },
    }
    const length = Buffer.byteLength(body)
    const head =
      `POST / HTTP/1.1\r\nhost: 127.0.0.1:${this.#port}\r\ncontent-type: application/json\r\n` +
      `content-length: ${length}\r\nx-sebs-request-id: ${requestId}\r\n\r\n`
    if (length <= JOINED_WRITE_MAX) {
      socket.write(head + body)
    } else {
      socket.cork()
      socket.write(head)
      socket.write(body)
      socket.uncork()
    }
  }

  /** Closes the connection for good (the instance ended); an exchange in flight fails. */
  destroy(): void {
    this.#destroyed = true
    this.#fail(new Error('the connection was closed'))
  }

  #open(): Socket {
    if (this.#socket) return this.#socket
    const socket = connect({ host: '127.0.0.1', port: this.#port, noDelay: true })
    socket.unref()
    socket.on('data', (chunk: Buffer) => {
      if (this.#pending) this.#pending.onData(chunk)
      // Bytes between requests: the server broke the protocol; the next request gets a fresh connection.
      else this.#drop()
    })
    socket.on('error', (err) => this.#fail(err))
    socket.on('close', () => this.#fail(new Error('the connection closed before the answer was complete')))
    this.#socket = socket
    return socket
  }

  /** The socket failed or closed: the exchange in flight (if any) fails; the next one reconnects. */
  #fail(err: Error): void {
    const pending = this.#pending
    this.#pending = undefined
    this.#drop()
    pending?.onFailure(err)
  }

  #drop(): void {
    const socket = this.#socket
    if (!socket) return
    this.#socket = undefined
    socket.removeAllListeners('data')
    socket.removeAllListeners('close')
    // Late errors of a dropped socket (ECONNRESET after destroy) have nobody to tell.
    socket.removeAllListeners('error')
    socket.on('error', () => {})
    socket.destroy()
  }
}

/**
 * Reads one HTTP/1.1 response from the chunks of a connection: the status
 * line, the headers, then a body framed by Content-Length, chunked transfer
 * coding, or (`connection: close` without a length) the end of the
 * connection, which the wrappers never use and which is refused here.
 */
export class AnswerReader {
  #head: Buffer | undefined = Buffer.alloc(0)
  #status = 0
  #length = -1
  #chunked: ChunkedDecoder | undefined
  #parts: Buffer[] = []
  #received = 0
  /** The server asked to close the connection after this answer. */
  closes = false

  /** Adds a chunk; returns the answer once it is complete. Throws on a malformed answer. */
  push(chunk: Buffer): HttpAnswer | undefined {
    if (this.#head !== undefined) {
      const head = this.#head.length === 0 ? chunk : Buffer.concat([this.#head, chunk])
      const end = head.indexOf(CRLF_CRLF)
      if (end < 0) {
        if (head.length > 64 * 1024) throw new Error('the answer\'s headers exceed 64 KiB')
        this.#head = head
        return undefined
      }
      this.#head = undefined
      this.#parseHead(head.toString('latin1', 0, end))
      chunk = head.subarray(end + 4)
    }
    if (this.#chunked) {
      const done = this.#chunked.push(chunk)
      return done ? { status: this.#status, body: done } : undefined
    }
    if (chunk.length > 0) {
      this.#parts.push(chunk)
      this.#received += chunk.length
    }
    if (this.#received < this.#length) return undefined
    if (this.#received > this.#length) throw new Error(`the answer is longer than its content-length (${this.#received} > ${this.#length} bytes)`)
    const body = this.#parts.length === 1 ? this.#parts[0]! : Buffer.concat(this.#parts, this.#received)
    return { status: this.#status, body }
  }

  #parseHead(text: string): void {
    const lines = text.split('\r\n')
    const status = /^HTTP\/1\.([01]) (\d{3})(?: |$)/.exec(lines[0]!)
    if (!status) throw new Error(`not an HTTP/1.x answer: ${JSON.stringify(lines[0]!.slice(0, 100))}`)
    this.#status = Number(status[2])
    let connection = ''
    let transferEncoding = ''
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!
      const colon = line.indexOf(':')
      if (colon <= 0) throw new Error(`malformed header line in the answer: ${JSON.stringify(line.slice(0, 100))}`)
      const name = line.slice(0, colon).trim().toLowerCase()
      const value = line.slice(colon + 1).trim()
      if (name === 'content-length') {
        if (!/^\d+$/.test(value)) throw new Error(`invalid content-length in the answer: ${JSON.stringify(value)}`)
        this.#length = Number(value)
      } else if (name === 'transfer-encoding') transferEncoding = value.toLowerCase()
      else if (name === 'connection') connection = value.toLowerCase()
    }
    this.closes = status[1] === '0' ? connection !== 'keep-alive' : connection === 'close'
    if (transferEncoding !== '') {
      if (transferEncoding !== 'chunked') throw new Error(`unsupported transfer-encoding in the answer: ${transferEncoding}`)
      this.#chunked = new ChunkedDecoder()
      return
    }
    if (this.#length < 0) {
      // 204/304 and 1xx carry no body; anything else must say how long it is.
      if (this.#status === 204 || this.#status === 304) this.#length = 0
      else throw new Error(`the answer (HTTP ${this.#status}) has neither content-length nor chunked transfer-encoding`)
    }
  }
}

/** Chunked transfer coding (RFC 9112 §7.1): size line, data, CRLF; a zero size and the trailer end it. */
class ChunkedDecoder {
  #buffer: Buffer = Buffer.alloc(0)
  #parts: Buffer[] = []
  #size = 0

  push(chunk: Buffer): Buffer | undefined {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk])
    for (;;) {
      const lineEnd = this.#buffer.indexOf('\r\n')
      if (lineEnd < 0) return undefined
      const sizeText = this.#buffer.toString('latin1', 0, lineEnd).split(';')[0]!.trim()
      if (!/^[0-9a-fA-F]+$/.test(sizeText)) throw new Error(`malformed chunk size in the answer: ${JSON.stringify(sizeText.slice(0, 20))}`)
      const size = parseInt(sizeText, 16)
      if (size === 0) {
        // The last chunk; the trailer section (usually empty) ends with an empty line.
        if (this.#buffer.indexOf(CRLF_CRLF, lineEnd) < 0) return undefined
        return Buffer.concat(this.#parts, this.#size)
      }
      const start = lineEnd + 2
      if (this.#buffer.length < start + size + 2) return undefined
      this.#parts.push(this.#buffer.subarray(start, start + size))
      this.#size += size
      this.#buffer = this.#buffer.subarray(start + size + 2)
    }
  }
}

/**
 * Sends one event. Resolves (never rejects) with the outcome; on timeout the
 * instance is killed, as a platform kills a sandbox that overran. An answer
 * carries `answeredAt`, the hrtime (ns) at which it was read in full.
 */
export function invokeOverHttp(target: HttpInvokeTarget, body: string, requestId: string, timeoutMs: number): Promise<InstanceInvocation> {
  return new Promise((resolve) => {
    let settled = false
    let timer: NodeJS.Timeout | undefined
    let unsubscribe = (): void => {}
    const finish = (response: InstanceInvocation): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      unsubscribe()
      resolve(response)
    }
    const ended = (): void => finish(target.endResponse())
    if (!target.alive) {
      ended()
      return
    }
    unsubscribe = target.onEnd(ended)

    timer = setTimeout(() => {
      if (settled) return
      finish({ kind: 'timeout' })
      target.kill()
      // The instance is being killed: its connection (and the exchange in flight) ends with it.
      target.connection.destroy()
    }, timeoutMs)

    target.connection.send(body, requestId, (err, answered) => {
      if (err) {
        if (settled) return
        // The usual cause is the instance dying mid-request: wait (briefly) for
        // its end so the error says "exited with code 3" or "OOMKilled", not
        // "connection closed".
        void target.waitForEnd(3000).then((hasEnded) => {
          if (hasEnded) ended()
          else finish({ kind: 'failed', message: `the request to the ${target.noun} failed: ${err.message}` })
        })
        return
      }
      const { status, body: answer, answeredAt } = answered!
      const text = answer.toString('utf8')
      if (status !== 200) {
        finish({ kind: 'failed', message: `the ${target.noun} answered HTTP ${status}: ${text.slice(0, 1000)}`, answeredAt })
        return
      }
      try {
        finish({ kind: 'ok', envelope: JSON.parse(text) as WrapperEnvelope, answeredAt })
      } catch (parseError) {
        finish({ kind: 'failed', message: `the ${target.noun} answered with invalid JSON (${errorMessage(parseError)}): ${text.slice(0, 200)}`, answeredAt })
      }
    })
  })
}
