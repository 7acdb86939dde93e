/**
 * The local provider's Python HTTP trigger (providers/local/wrappers/python/
 * server.py), spoken to over a raw socket (test process; the server is a real
 * python3 child): keep-alive, bodies in pieces, back-to-back requests and the
 * answers to wrong requests. The Node.js trigger is Node's own http server.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WRAPPER_CORE } from '../packaging/wrapper-core/index.ts'

const here = dirname(fileURLToPath(import.meta.url))
let dir: string
let child: ChildProcess
let port: number

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sebs-py-server-'))
  copyFileSync(join(here, 'wrappers', 'python', 'server.py'), join(dir, 'server.py'))
  copyFileSync(join(here, 'wrappers', 'python', 'handler.py'), join(dir, 'handler.py'))
  copyFileSync(WRAPPER_CORE.python, join(dir, 'sebs_core.py'))
  mkdirSync(join(dir, 'function'))
  writeFileSync(join(dir, 'function', '__init__.py'), '')
  writeFileSync(join(dir, 'function', 'function.py'), 'def handler(event):\n    return {"result": {"n": event.get("n"), "size": len(event.get("pad", ""))}}\n')
  mkdirSync(join(dir, 'tmp'))
  child = spawn(process.env.SEBS_PYTHON ?? 'python3', ['-u', 'server.py'], { cwd: dir, env: { ...process.env, TMPDIR: join(dir, 'tmp'), PYTHONDONTWRITEBYTECODE: '1' }, stdio: ['pipe', 'pipe', 'inherit'] })
  port = await new Promise<number>((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error(`no SEBS_READY line in 30 s: ${out}`)), 30_000)
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      const m = /SEBS_READY (\d+)\n/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve(Number(m[1]))
      }
    })
  })
}, 60_000)

afterAll(() => {
  child?.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
})

/** A raw connection that collects what the server sends, with each chunk as it arrived. */
function open(): Promise<{ socket: Socket; chunks: Buffer[]; answers: (n: number) => Promise<string[]>; closed: Promise<void> }> {
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
    /** Resolves with the first `n` complete answers (head + Content-Length body). */
    const answers = (n: number) =>
      new Promise<string[]>((done, fail) => {
        const timer = setTimeout(() => fail(new Error(`fewer than ${n} answers in 10 s: ${Buffer.concat(chunks).toString('latin1')}`)), 10_000)
        const check = () => {
          const text = Buffer.concat(chunks).toString('latin1')
          const out: string[] = []
          let at = 0
          while (out.length < n) {
            const end = text.indexOf('\r\n\r\n', at)
            if (end < 0) break
            const length = Number(/content-length: (\d+)/i.exec(text.slice(at, end))?.[1] ?? 0)
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

const post = (body: string, extra = '') => `POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nX-Sebs-Request-Id: req-${body.length}\r\n${extra}\r\n${body}`

describe('the Python HTTP trigger', () => {
  it('answers invocation after invocation on one kept-alive connection', async () => {
    const c = await open()
    for (let i = 1; i <= 3; i++) {
      c.socket.write(post(JSON.stringify({ n: i })))
      const answer = (await c.answers(i)).at(-1)!
      expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n/)
      expect(answer).not.toMatch(/connection: close/i)
      const envelope = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))
      expect(envelope.result).toEqual({ n: i, size: 0 })
      expect(envelope.requestId).toBe(`req-${JSON.stringify({ n: i }).length}`)
      expect(envelope.isCold).toBe(i === 1)
    }
    c.socket.destroy()
  })

  it('reads a body that arrives in pieces and answers requests sent back to back in order', async () => {
    const c = await open()
    const pad = 'x'.repeat(200_000)
    const big = post(JSON.stringify({ n: 7, pad }))
    c.socket.write(big.slice(0, 100))
    await new Promise((r) => setTimeout(r, 50))
    c.socket.write(big.slice(100) + post(JSON.stringify({ n: 8 })))
    const [first, second] = await c.answers(2)
    expect(JSON.parse(first!.slice(first!.indexOf('\r\n\r\n') + 4)).result).toEqual({ n: 7, size: 200_000 })
    expect(JSON.parse(second!.slice(second!.indexOf('\r\n\r\n') + 4)).result).toEqual({ n: 8, size: 0 })
    c.socket.destroy()
  })

  it('says what is wrong with a request that is not an invocation, and closes when asked to', async () => {
    const c = await open()
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

  it('refuses chunked bodies and malformed requests with a message, then closes the connection', async () => {
    const chunked = await open()
    chunked.socket.write('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n')
    const [refused] = await chunked.answers(1)
    expect(refused).toMatch(/^HTTP\/1\.1 501 /)
    expect(refused).toContain('send a Content-Length')
    await chunked.closed

    const garbage = await open()
    garbage.socket.write('NONSENSE\r\n\r\n')
    const [malformed] = await garbage.answers(1)
    expect(malformed).toMatch(/^HTTP\/1\.1 400 /)
    await garbage.closed

    // The server still serves new connections afterwards.
    const next = await open()
    next.socket.write(post('{"n": 1}'))
    expect((await next.answers(1))[0]).toMatch(/^HTTP\/1\.1 200 OK/)
    next.socket.destroy()
  })
})
