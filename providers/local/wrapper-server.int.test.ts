/**
 * The local provider's HTTP triggers (providers/local/wrappers/python/
 * server.py and wrappers/nodejs/server.js, both plain HTTP/1.1 loops on the
 * socket), spoken to over a raw socket (test process; each server is a real
 * python3 / node child): the same protocol cases against both — keep-alive,
 * requests in pieces, back-to-back requests, large bodies, reconnects and the
 * answers to wrong requests.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Language } from '../../core/types.ts'
import { WRAPPER_CORE } from '../packaging/wrapper-core/index.ts'

const here = dirname(fileURLToPath(import.meta.url))

/** Lays out a minimal package for `language` in a temp dir: the wrapper files and a function that reports the event's size. */
function layOut(language: Language, dir: string): [string, string[]] {
  const wrappers = join(here, 'wrappers', language)
  mkdirSync(join(dir, 'function'))
  mkdirSync(join(dir, 'tmp'))
  if (language === 'python') {
    copyFileSync(join(wrappers, 'server.py'), join(dir, 'server.py'))
    copyFileSync(join(wrappers, 'handler.py'), join(dir, 'handler.py'))
    copyFileSync(WRAPPER_CORE.python, join(dir, 'sebs_core.py'))
    writeFileSync(join(dir, 'function', '__init__.py'), '')
    writeFileSync(
      join(dir, 'function', 'function.py'),
      [
        'def handler(event):',
        '    if event.get("unserializable"):',
        '        return {"result": {1, 2}}',
        '    return {"result": {"n": event.get("n"), "size": len(event.get("pad", ""))}}',
        '',
      ].join('\n'),
    )
    return [process.env.SEBS_PYTHON ?? 'python3', ['-u', 'server.py']]
  }
  copyFileSync(join(wrappers, 'server.js'), join(dir, 'server.js'))
  copyFileSync(join(wrappers, 'handler.js'), join(dir, 'handler.js'))
  copyFileSync(WRAPPER_CORE.nodejs, join(dir, 'sebs-core.js'))
  writeFileSync(
    join(dir, 'function', 'function.js'),
    [
      'exports.handler = async (event) => {',
      '  if (event.unserializable) return { result: 1n }',
      "  return { result: { n: event.n === undefined ? null : event.n, size: (event.pad || '').length } }",
      '}',
      '',
    ].join('\n'),
  )
  return [process.execPath, ['server.js']]
}

/** Starts a wrapper server and waits for its `SEBS_READY <port>` line. */
async function start(language: Language): Promise<{ dir: string; child: ChildProcess; port: number }> {
  const dir = mkdtempSync(join(tmpdir(), `sebs-${language}-server-`))
  const [cmd, args] = layOut(language, dir)
  const child = spawn(cmd, args, { cwd: dir, env: { ...process.env, TMPDIR: join(dir, 'tmp'), PYTHONDONTWRITEBYTECODE: '1' }, stdio: ['pipe', 'pipe', 'inherit'] })
  const port = await new Promise<number>((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error(`no SEBS_READY line in 30 s: ${out}`)), 30_000)
    child.once('exit', (code) => reject(new Error(`the ${language} server exited (${code}) before SEBS_READY: ${out}`)))
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      const m = /SEBS_READY (\d+)\n/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve(Number(m[1]))
      }
    })
  })
  return { dir, child, port }
}

interface Connection {
  socket: Socket
  /** What the server sent, each chunk as it arrived. */
  chunks: Buffer[]
  /** Resolves with the first `n` complete answers (head + Content-Length body), 100 Continue interim answers left out. */
  answers: (n: number) => Promise<string[]>
  closed: Promise<void>
}

/** A raw connection to `port` that collects what the server sends. */
function open(port: number): Promise<Connection> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    socket.setNoDelay(true)
    const chunks: Buffer[] = []
    let waiter: (() => void) | undefined
    socket.on('data', (d: Buffer) => {
      chunks.push(d)
      waiter?.()
    })
    const closed = new Promise<void>((r) => socket.once('close', () => r()))
    const answers = (n: number) =>
      new Promise<string[]>((done, fail) => {
        const timer = setTimeout(() => fail(new Error(`fewer than ${n} answers in 20 s: ${Buffer.concat(chunks).toString('latin1').slice(0, 2000)}`)), 20_000)
        const check = () => {
          const text = Buffer.concat(chunks).toString('latin1')
          const out: string[] = []
          let at = 0
          while (out.length < n) {
            const end = text.indexOf('\r\n\r\n', at)
            if (end < 0) break
            const head = text.slice(at, end)
            if (/^HTTP\/1\.1 100 /.test(head)) {
              at = end + 4
              continue
            }
            const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0)
            if (text.length < end + 4 + length) break
            out.push(text.slice(at, end + 4 + length))
            at = end + 4 + length
          }
          if (out.length >= n) {
            clearTimeout(timer)
            waiter = undefined
            done(out)
          }
        }
        waiter = check
        check()
      })
    socket.once('connect', () => resolve({ socket, chunks, answers, closed }))
    socket.once('error', reject)
  })
}

const post = (body: string, extra = '', id = `req-${body.length}`) =>
  `POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${id ? `X-Sebs-Request-Id: ${id}\r\n` : ''}${extra}\r\n${body}`
const bodyOf = (answer: string) => JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))
const tick = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe.each(['python', 'nodejs'] as const)('the %s HTTP trigger', (language) => {
  let server: { dir: string; child: ChildProcess; port: number }
  const connect = () => open(server.port)

  beforeAll(async () => {
    server = await start(language)
  }, 60_000)

  afterAll(() => {
    server?.child.kill('SIGKILL')
    if (server) rmSync(server.dir, { recursive: true, force: true })
  })

  it('answers invocation after invocation on one kept-alive connection, each answer in one piece', async () => {
    const c = await connect()
    for (let i = 1; i <= 3; i++) {
      const before = c.chunks.length
      c.socket.write(post(JSON.stringify({ n: i })))
      const answer = (await c.answers(i)).at(-1)!
      expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n/)
      expect(answer).toMatch(/\r\ncontent-type: application\/json\r\n/i)
      expect(answer).not.toMatch(/connection: close/i)
      // One write per answer: a small answer reaches the client as one segment.
      expect(c.chunks.length - before).toBe(1)
      const envelope = bodyOf(answer)
      expect(envelope.result).toEqual({ n: i, size: 0 })
      expect(envelope.requestId).toBe(`req-${JSON.stringify({ n: i }).length}`)
      expect(envelope.isCold).toBe(i === 1)
    }
    c.socket.destroy()
  })

  it('serves a new connection after the previous one closed (the provider may reconnect), as the same warm instance', async () => {
    for (let round = 0; round < 3; round++) {
      const c = await connect()
      c.socket.write(post(JSON.stringify({ n: round })))
      const [answer] = await c.answers(1)
      expect(bodyOf(answer!).result).toEqual({ n: round, size: 0 })
      // The instance stays warm across connections (the first round may be the instance's first call when run alone).
      if (round > 0) expect(bodyOf(answer!).isCold).toBe(false)
      c.socket.end()
      await c.closed
    }
  })

  it('reads a request split across TCP packets anywhere, head included', async () => {
    const c = await connect()
    const request = post(JSON.stringify({ n: 5, pad: 'abc' }))
    // Cuts inside the request line, inside a header, inside the blank line that ends the head, and in the body.
    const headEnd = request.indexOf('\r\n\r\n')
    const cuts = [3, 20, headEnd + 1, headEnd + 3, headEnd + 10, request.length]
    let at = 0
    for (const cut of cuts) {
      c.socket.write(request.slice(at, cut))
      at = cut
      await tick(20)
    }
    const [answer] = await c.answers(1)
    expect(bodyOf(answer!).result).toEqual({ n: 5, size: 3 })
    c.socket.destroy()
  })

  it('reads a body that arrives in pieces and answers requests sent back to back in order', async () => {
    const c = await connect()
    const pad = 'x'.repeat(200_000)
    const big = post(JSON.stringify({ n: 7, pad }))
    c.socket.write(big.slice(0, 100))
    await tick(50)
    c.socket.write(big.slice(100) + post(JSON.stringify({ n: 8 })) + post(JSON.stringify({ n: 9 })))
    const [first, second, third] = await c.answers(3)
    expect(bodyOf(first!).result).toEqual({ n: 7, size: 200_000 })
    expect(bodyOf(second!).result).toEqual({ n: 8, size: 0 })
    expect(bodyOf(third!).result).toEqual({ n: 9, size: 0 })
    c.socket.destroy()
  })

  it('takes an 8 MB event in one request and answers the next one on the same connection', async () => {
    const c = await connect()
    const pad = 'y'.repeat(8 * 1024 * 1024)
    c.socket.write(post(JSON.stringify({ n: 1, pad })))
    const [big] = await c.answers(1)
    expect(bodyOf(big!).result).toEqual({ n: 1, size: pad.length })
    c.socket.write(post(JSON.stringify({ n: 2 })))
    const [, small] = await c.answers(2)
    expect(bodyOf(small!).result).toEqual({ n: 2, size: 0 })
    c.socket.destroy()
  }, 30_000)

  it('echoes the request id it is given and makes up a UUID when there is none', async () => {
    const c = await connect()
    c.socket.write(post('{"n": 1}', '', 'given-id-42'))
    c.socket.write(post('{"n": 2}', '', ''))
    const [given, made] = await c.answers(2)
    expect(bodyOf(given!).requestId).toBe('given-id-42')
    expect(bodyOf(made!).requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
    c.socket.destroy()
  })

  it("answers a result JSON cannot represent as the function's SerializationError", async () => {
    const c = await connect()
    c.socket.write(post('{"unserializable": true}'))
    const [answer] = await c.answers(1)
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n/)
    const envelope = bodyOf(answer!)
    expect(envelope.result).toBeNull()
    expect(envelope.error.type).toBe('SerializationError')
    expect(envelope.error.message).toContain('not JSON-serializable')
    c.socket.destroy()
  })

  it('says what is wrong with a request that is not an invocation, and closes when asked to', async () => {
    const c = await connect()
    c.socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n')
    c.socket.write(post('{bad'))
    c.socket.write(post('{}').replace('POST / ', 'POST /other '))
    c.socket.write(post('{"n": 9}', 'Connection: close\r\n'))
    const [get, bad, other, last] = await c.answers(4)
    expect(get).toMatch(/^HTTP\/1\.1 404 /)
    expect(get).toContain('only POST / is served, not GET /health')
    expect(bad).toMatch(/^HTTP\/1\.1 400 /)
    expect(bad).toContain('request body is not JSON')
    expect(other).toContain('only POST / is served, not POST /other')
    expect(last).toMatch(/^HTTP\/1\.1 200 OK\r\n/)
    expect(last).toMatch(/connection: close/i)
    await c.closed
  })

  it('closes an HTTP/1.0 connection after the answer unless it asks for keep-alive', async () => {
    const kept = await connect()
    kept.socket.write(post('{"n": 1}', 'Connection: keep-alive\r\n').replace('HTTP/1.1', 'HTTP/1.0'))
    kept.socket.write(post('{"n": 2}').replace('HTTP/1.1', 'HTTP/1.0'))
    const [first, second] = await kept.answers(2)
    expect(bodyOf(first!).result).toEqual({ n: 1, size: 0 })
    expect(first).not.toMatch(/connection: close/i)
    expect(bodyOf(second!).result).toEqual({ n: 2, size: 0 })
    expect(second).toMatch(/connection: close/i)
    await kept.closed
  })

  it('answers a client that shuts down its side right after the request, then closes', async () => {
    const c = await connect()
    c.socket.end(post('{"n": 3}'))
    const [answer] = await c.answers(1)
    expect(bodyOf(answer!).result).toEqual({ n: 3, size: 0 })
    await c.closed
  })

  it('refuses chunked bodies and malformed requests with a message, then closes the connection', async () => {
    const chunked = await connect()
    chunked.socket.write('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n')
    const [refused] = await chunked.answers(1)
    expect(refused).toMatch(/^HTTP\/1\.1 501 /)
    expect(refused).toContain('chunked request bodies are not supported; send a Content-Length')
    await chunked.closed

    const cases: [string, RegExp][] = [
      ['NONSENSE\r\n\r\n', /malformed request line/],
      ['POST / HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n', /malformed header line/],
      ['POST / HTTP/1.1\r\nHost: x\r\nContent-Length: lots\r\n\r\n{}', /invalid Content-Length/],
    ]
    for (const [request, why] of cases) {
      const bad = await connect()
      bad.socket.write(request)
      const [malformed] = await bad.answers(1)
      expect(malformed).toMatch(/^HTTP\/1\.1 400 /)
      expect(bodyOf(malformed!).message).toMatch(why)
      await bad.closed
    }

    // The server still serves new connections afterwards.
    const next = await connect()
    next.socket.write(post('{"n": 1}'))
    expect((await next.answers(1))[0]).toMatch(/^HTTP\/1\.1 200 OK/)
    next.socket.destroy()
  })

  // Also a head that ends within the read that crosses 64 KB (server.py once served it with 200).
  it('refuses a request head over 64 KB with 431, then closes the connection', async () => {
    const huge = await connect()
    huge.socket.write(`POST / HTTP/1.1\r\nHost: x\r\nX-Padding: ${'p'.repeat(70_000)}\r\n\r\n`)
    const [tooLarge] = await huge.answers(1)
    expect(tooLarge).toMatch(/^HTTP\/1\.1 431 /)
    expect(tooLarge).toContain('exceeds 65536 bytes')
    await huge.closed
  })

  it.runIf(language === 'nodejs')('sends 100 Continue to a client that waits for it before the body (as http.createServer did)', async () => {
    const c = await connect()
    const body = '{"n": 4}'
    c.socket.write(post(body, 'Expect: 100-continue\r\n').slice(0, -body.length))
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no 100 Continue in 10 s')), 10_000)
      const check = () => {
        if (Buffer.concat(c.chunks).toString('latin1').startsWith('HTTP/1.1 100 Continue\r\n\r\n')) {
          clearTimeout(timer)
          resolve()
        } else setTimeout(check, 10)
      }
      check()
    })
    c.socket.write(body)
    const [answer] = await c.answers(1)
    expect(bodyOf(answer!).result).toEqual({ n: 4, size: 0 })
    c.socket.destroy()
  })

  it.runIf(language === 'nodejs')('refuses a head whose lines end in a bare LF instead of waiting for more', async () => {
    const c = await connect()
    c.socket.write('POST / HTTP/1.1\nHost: x\nContent-Length: 2\n\n{}')
    const [answer] = await c.answers(1)
    expect(answer).toMatch(/^HTTP\/1\.1 400 /)
    expect(answer).toContain('lines must end with CRLF')
    await c.closed
  })
})
