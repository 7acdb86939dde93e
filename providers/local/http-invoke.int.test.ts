/**
 * The local provider's HTTP client for instances (http-invoke.ts), against
 * real servers on loopback in the test process: node:http (the answer shapes
 * every HTTP/1.1 server may send: content-length, chunked, connection close)
 * and raw sockets (answers in pieces, a server that dies mid-answer, one that
 * closes idle connections).
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http'
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import type { InstanceResponse } from './function-instance.ts'
import { AnswerReader, InstanceConnection, createHttpTarget, invokeOverHttp } from './http-invoke.ts'

const servers: Array<HttpServer | NetServer> = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => { (s as HttpServer).closeAllConnections?.(); s.close(() => r()) })))
})

function listen<T extends HttpServer | NetServer>(server: T): Promise<number> {
  servers.push(server)
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)))
}

/** One exchange on a connection, as a promise. */
function exchange(connection: InstanceConnection, body: string, requestId: string): Promise<{ status: number }> {
  return new Promise((resolve, reject) => connection.send(body, requestId, (err, answer) => (err ? reject(err) : resolve(answer!))))
}

/** A target whose instance never ends unless `end()` is called. */
function target(port: number) {
  const endListeners = new Set<() => void>()
  let alive = true
  let resolveEnded: () => void = () => {}
  const ended = new Promise<void>((r) => (resolveEnded = r))
  const kills: number[] = []
  const t = createHttpTarget({
    port,
    noun: 'instance',
    isAlive: () => alive,
    endListeners,
    ended,
    endResponse: (): InstanceResponse => ({ kind: 'exited', code: 3, signal: null, stderrTail: 'boom' }),
    kill: () => kills.push(Date.now()),
  })
  return {
    t,
    kills,
    end: () => {
      alive = false
      for (const l of endListeners) l()
      resolveEnded()
    },
  }
}

describe('AnswerReader', () => {
  const answer = (text: string, split: number[] = []) => {
    const reader = new AnswerReader()
    const bytes = Buffer.from(text, 'latin1')
    let at = 0
    let out
    for (const cut of [...split, bytes.length]) {
      out = reader.push(bytes.subarray(at, cut))
      if (cut < bytes.length) expect(out, `complete after ${cut} of ${bytes.length} bytes`).toBeUndefined()
      at = cut
    }
    return { out: out!, reader }
  }

  it('reads a content-length answer delivered byte by byte', () => {
    const text = 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"result":1}'.replace('11', '12')
    const { out, reader } = answer(text, Array.from({ length: text.length - 1 }, (_, i) => i + 1))
    expect(out.status).toBe(200)
    expect(out.body.toString()).toBe('{"result":1}')
    expect(reader.closes).toBe(false)
  })

  it('reads a chunked answer split inside sizes and data, with and without trailers', () => {
    const plain = 'HTTP/1.1 500 Internal Server Error\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n'
    expect(answer(plain, [40, 70, 73, 80]).out).toEqual({ status: 500, body: Buffer.from('hello world') })
    const trailer = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nx-check: 1\r\n\r\n'
    expect(answer(trailer, [trailer.length - 3]).out.body.toString()).toBe('abc')
  })

  it('says when the server closes after the answer (connection: close, HTTP/1.0)', () => {
    expect(answer('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n').reader.closes).toBe(true)
    expect(answer('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n').reader.closes).toBe(true)
    expect(answer('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n').reader.closes).toBe(false)
  })

  it('refuses answers it cannot frame or read', () => {
    expect(() => answer('SSH-2.0-OpenSSH\r\n\r\n')).toThrow(/not an HTTP\/1.x answer/)
    expect(() => answer('HTTP/1.1 200 OK\r\n\r\n{}')).toThrow(/neither content-length nor chunked/)
    expect(() => answer('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}extra')).toThrow(/longer than its content-length/)
    expect(() => answer('HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n')).toThrow(/invalid content-length/)
    expect(() => answer('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n')).toThrow(/unsupported transfer-encoding/)
    expect(() => answer('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n')).toThrow(/malformed chunk size/)
  })
})

describe('invokeOverHttp', () => {
  it('sends the event with its request id, keeps one connection across invocations and ends the window at the last byte', async () => {
    const seen: Array<{ id: string | undefined; body: string; remotePort: number | undefined }> = []
    const port = await listen(
      createHttpServer((req, res) => {
        const chunks: Buffer[] = []
        req.on('data', (c: Buffer) => chunks.push(c))
        req.on('end', () => {
          seen.push({ id: req.headers['x-sebs-request-id'] as string | undefined, body: Buffer.concat(chunks).toString(), remotePort: req.socket.remotePort })
          const out = JSON.stringify({ result: { echo: JSON.parse(Buffer.concat(chunks).toString()) } })
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) })
          res.end(out)
        })
      }),
    )
    const { t } = target(port)
    for (let i = 0; i < 3; i++) {
      const before = process.hrtime.bigint()
      const r = await invokeOverHttp(t, JSON.stringify({ n: i }), `req-${i}`, 5000)
      expect(r).toMatchObject({ kind: 'ok', envelope: { result: { echo: { n: i } } } })
      expect(r.answeredAt! > before && r.answeredAt! <= process.hrtime.bigint()).toBe(true)
    }
    expect(seen.map((s) => s.id)).toEqual(['req-0', 'req-1', 'req-2'])
    expect(new Set(seen.map((s) => s.remotePort)).size, 'one kept-alive connection').toBe(1)
    t.connection.destroy()
  })

  it('sends and receives bodies of several MB intact (a payload sweep sends 4 MB)', async () => {
    const port = await listen(
      createHttpServer((req, res) => {
        const chunks: Buffer[] = []
        req.on('data', (c: Buffer) => chunks.push(c))
        req.on('end', () => {
          const event = JSON.parse(Buffer.concat(chunks).toString()) as { pad: string }
          const out = JSON.stringify({ result: { size: event.pad.length, back: event.pad } })
          // Chunked on purpose: node:http chunks when no length is set.
          res.writeHead(200, { 'content-type': 'application/json' })
          res.end(out)
        })
      }),
    )
    const { t } = target(port)
    const pad = 'x'.repeat(8 * 1024 * 1024)
    const r = await invokeOverHttp(t, JSON.stringify({ pad }), 'big', 30_000)
    expect(r.kind).toBe('ok')
    const result = (r as { envelope: { result: { size: number; back: string } } }).envelope.result
    expect(result.size).toBe(pad.length)
    expect(result.back === pad).toBe(true)
    t.connection.destroy()
  })

  it('reconnects after the server closed the idle connection, or asked to close it', async () => {
    const connections: Socket[] = []
    let answers = 0
    const server = createHttpServer((req, res) => {
      req.resume()
      req.on('end', () => {
        answers++
        // Every second answer asks the client to close.
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': 2, ...(answers % 2 === 0 ? { connection: 'close' } : {}) })
        res.end('{}')
      })
    })
    server.on('connection', (s: Socket) => connections.push(s))
    const port = await listen(server)
    const { t } = target(port)
    expect((await invokeOverHttp(t, '{}', 'a', 5000)).kind).toBe('ok')
    // The server drops the idle connection between invocations.
    connections[0]!.destroy()
    await new Promise((r) => setTimeout(r, 50))
    expect((await invokeOverHttp(t, '{}', 'b', 5000)).kind).toBe('ok')
    expect((await invokeOverHttp(t, '{}', 'c', 5000)).kind).toBe('ok')
    expect(connections.length).toBe(3)
    t.connection.destroy()
  })

  it('a non-200 answer and an answer that is not JSON fail with what the instance said', async () => {
    let next = 0
    const port = await listen(
      createHttpServer((req, res) => {
        req.resume()
        req.on('end', () => {
          const [status, body] = next++ === 0 ? [500, '{"message":"wrapper failure: Error: boom"}'] : [200, 'not json']
          res.writeHead(status, { 'content-length': Buffer.byteLength(body) })
          res.end(body)
        })
      }),
    )
    const { t } = target(port)
    expect(await invokeOverHttp(t, '{}', 'a', 5000)).toMatchObject({ kind: 'failed', message: expect.stringMatching(/^the instance answered HTTP 500: .*wrapper failure: Error: boom/) })
    expect(await invokeOverHttp(t, '{}', 'b', 5000)).toMatchObject({ kind: 'failed', message: expect.stringMatching(/^the instance answered with invalid JSON \(.*\): not json/) })
    t.connection.destroy()
  })

  it('an instance that dies mid-answer is reported by how it ended, not as a connection error', async () => {
    let ctl: ReturnType<typeof target> | undefined
    const port = await listen(
      createNetServer((socket) => {
        socket.once('data', () => {
          socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"res')
          setTimeout(() => {
            socket.destroy()
            setTimeout(() => ctl!.end(), 20)
          }, 20)
        })
      }),
    )
    ctl = target(port)
    expect(await invokeOverHttp(ctl.t, '{}', 'a', 5000)).toEqual({ kind: 'exited', code: 3, signal: null, stderrTail: 'boom' })
  })

  it('a connection closed mid-answer by an instance that lives on is a failed request that says so', async () => {
    const port = await listen(
      createNetServer((socket) => {
        socket.once('data', () => {
          socket.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"res')
        })
      }),
    )
    const { t } = target(port)
    const waited = Date.now()
    // waitForEnd gives the instance 3 s to end before the connection's own error is reported.
    expect(await invokeOverHttp(t, '{}', 'a', 10_000)).toEqual({ kind: 'failed', message: 'the request to the instance failed: the connection closed before the answer was complete' })
    expect(Date.now() - waited).toBeGreaterThanOrEqual(2900)
    t.connection.destroy()
  })

  it('a request that overruns its timeout kills the instance and ends with a timeout; a second request on a new connection works', async () => {
    let first = true
    const port = await listen(
      createNetServer((socket) => {
        socket.on('data', () => {
          if (first) {
            first = false
            return // never answers
          }
          socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}')
        })
      }),
    )
    const { t, kills } = target(port)
    expect(await invokeOverHttp(t, '{}', 'slow', 200)).toEqual({ kind: 'timeout' })
    expect(kills).toHaveLength(1)
    // The connection was destroyed with the instance; a destroyed connection refuses further exchanges.
    await expect(exchange(t.connection, '{}', 'x')).rejects.toThrow(/closed/)
    const fresh = new InstanceConnection(port)
    expect((await exchange(fresh, '{}', 'y')).status).toBe(200)
    fresh.destroy()
  })

  it('an ended instance is answered by its end at once, without a request', async () => {
    const ctl = target(1)
    ctl.end()
    expect(await invokeOverHttp(ctl.t, '{}', 'a', 5000)).toMatchObject({ kind: 'exited', code: 3 })
  })
})
