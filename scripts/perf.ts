/**
 * `npm run perf`: the foundation's speed targets, each measured as a ratio
 * against a bare baseline in the same run (absolute times on shared machines
 * are not stable; ratios measured side by side are).
 *
 *  1. Client time of a warm invocation of a no-op function on the local
 *     provider (the record's clientTimeUs) ÷ the round trip of a bare Node HTTP echo server process doing
 *     the same JSON exchange over loopback. Target ≤ 1.5×.
 *  2. Cold start of a local nodejs instance (spawn to first response) ÷ the
 *     start of a bare `node` HTTP server process (spawn to first response).
 *     Target ≤ 1.3×.
 *  3. A cached second `sebs bench` run, spawn to its first recorded
 *     invocation ÷ Vitest starting an empty bench file, spawn to its first
 *     bench call. Target < 3×.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { Bench } from 'tinybench'
import { createLogger } from '../core/logger.ts'
import { loadBenchmark } from '../engine/discovery.ts'
import { createProvider } from '../providers/registry.ts'
import { computeStatistics } from '../analysis/statistics.ts'

const ROOT = resolve(import.meta.dirname, '..')
const FIXTURES = join(ROOT, 'test', 'fixtures', 'benchmarks')
const CACHE = join(ROOT, '.sebs-cache', 'perf')
const quick = process.argv.includes('--quick')
const logger = createLogger('sebs', { quiet: true })

const BARE_SERVER = `
const http = require('node:http')
const server = http.createServer((req, res) => {
  let body = ''
  req.on('data', (c) => (body += c))
  req.on('end', () => {
    const event = JSON.parse(body || '{}')
    const out = JSON.stringify({ begin: Date.now() * 1000, end: Date.now() * 1000, result: { echo: event } })
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) })
    res.end(out)
  })
})
server.keepAliveTimeout = 60000
server.listen(0, '127.0.0.1', () => process.stdout.write('READY ' + server.address().port + '\\n'))
process.stdin.on('end', () => process.exit(0))
process.stdin.resume()
`

function startBare(): Promise<{ port: number; kill: () => void; startedMs: number }> {
  const t0 = performance.now()
  const child = spawn(process.execPath, ['-e', BARE_SERVER], { stdio: ['pipe', 'pipe', 'inherit'] })
  return new Promise((ok, fail) => {
    let buf = ''
    const timer = setTimeout(() => fail(new Error('bare server did not start in 30 s')), 30_000)
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString()
      const m = /READY (\d+)/.exec(buf)
      if (m) {
        clearTimeout(timer)
        ok({ port: Number(m[1]), kill: () => child.kill('SIGKILL'), startedMs: performance.now() - t0 })
      }
    })
    child.once('exit', () => fail(new Error('bare server exited')))
  })
}

function post(agent: Agent, port: number, payload: unknown): Promise<unknown> {
  const body = JSON.stringify(payload)
  return new Promise((ok, fail) => {
    const req = request(
      { host: '127.0.0.1', port, method: 'POST', path: '/', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        let data = ''
        res.setEncoding('utf8')
        res.on('data', (c) => (data += c))
        res.on('end', () => ok(JSON.parse(data)))
      },
    )
    req.once('error', fail)
    req.end(body)
  })
}

const median = (xs: number[]) => computeStatistics(xs).median

async function main() {
  mkdirSync(CACHE, { recursive: true })
  const runId = `perf-${Date.now()}`
  const provider = await createProvider('local', { runId, cacheDir: CACHE, logger, options: {} })
  const bench = loadBenchmark(join(FIXTURES, '900.fixtures', '901.echo'), FIXTURES)
  const pkg = await provider.package(
    { benchmark: bench, language: 'nodejs', arch: 'x64' },
    { cacheDir: CACHE, logger, runtimes: { python: 'python3', node: process.execPath } },
  )
  const deployed = await provider.deploy(pkg, { runId, memory: 128, timeout: 30, trigger: 'http', env: {} })
  const fn = provider.connect(deployed.handle)
  const payload = { message: 'hello' }
  const rows: Array<{ what: string; ratio: number; target: string; ok: boolean; detail: string }> = []

  // 1. Warm invocation overhead.
  {
    const bare = await startBare()
    const agent = new Agent({ keepAlive: true })
    await fn.invoke(payload)
    // Warm-up until both paths run optimized code: both round trips start
    // 4-8x slower and settle only after ~1,500 calls (V8 tiering up the HTTP
    // client, the harness and the servers); 50 calls had left the first
    // rounds of 40 in that phase and the pooled median 1.5-1.8x instead of
    // the ~1.3x of the settled rounds.
    for (let i = 0; i < (quick ? 1500 : 3000); i++) {
      await fn.invoke(payload)
      await post(agent, bare.port, payload)
    }
    // Short alternating rounds rather than one long block per task: which
    // process ran last changes the next round trip by ~30 % on this kind of
    // machine (CPU caches, scheduler wake-ups), and load drifts over seconds.
    // Alternating rounds expose both sides to the same conditions.
    const rounds = quick ? 10 : 40
    const samples = { sebs: [] as number[], bare: [] as number[] }
    for (let round = 0; round < rounds; round++) {
      const b = new Bench({ iterations: 50, time: 0, warmupIterations: 5, warmupTime: 0, retainSamples: true })
      // The metric is the invocation's client time (what records
      // carry: send to answer, measured by the provider) against the bare
      // round trip measured the same way, around the request alone; both
      // leave out tinybench's own per-iteration overhead.
      const sebsTask = (): void => {
        b.add('sebs warm invoke (local provider)', async () => {
          const r = await fn.invoke(payload)
          if (r.state !== 'ok') throw new Error(`invoke failed: ${r.state}`)
          return { overriddenDuration: r.clientTimeUs / 1000 }
        })
      }
      const bareTask = (): void => {
        b.add('bare node echo server', async () => {
          const t0 = b.now()
          await post(agent, bare.port, payload)
          return { overriddenDuration: b.now() - t0 }
        })
      }
      if (round % 2 === 0) {
        sebsTask()
        bareTask()
      } else {
        bareTask()
        sebsTask()
      }
      await b.run()
      for (const task of b.tasks) {
        const result = task.result
        if (!result || !('latency' in result) || !result.latency.samples) throw new Error(`${task.name}: no latency samples (state ${result?.state})`)
        samples[task.name.startsWith('sebs') ? 'sebs' : 'bare'].push(...result.latency.samples)
      }
    }
    const sebsMed = median(samples.sebs)
    const bareMed = median(samples.bare)
    const ratio = sebsMed / bareMed
    rows.push({ what: 'warm invocation ÷ bare echo round trip', ratio, target: '≤ 1.5', ok: ratio <= 1.5, detail: `${sebsMed.toFixed(3)} ms vs ${bareMed.toFixed(3)} ms (medians)` })
    agent.destroy()
    bare.kill()
  }

  // 2. Cold start: spawn to first response, alternating the two so drift hits both alike.
  {
    const n = quick ? 8 : 25
    const sebsCold: number[] = []
    const bareCold: number[] = []
    for (let i = 0; i < n; i++) {
      await fn.forceColdStart()
      const r = await fn.invoke(payload)
      if (r.state !== 'ok' || !r.envelope.isCold) throw new Error('expected a cold invocation')
      sebsCold.push(r.clientTimeUs / 1000)
      const t0 = performance.now()
      const bare = await startBare()
      const agent = new Agent({ keepAlive: false })
      await post(agent, bare.port, payload)
      bareCold.push(performance.now() - t0)
      bare.kill()
    }
    const ratio = median(sebsCold) / median(bareCold)
    rows.push({ what: 'cold start (nodejs) ÷ bare node server start', ratio, target: '≤ 1.3', ok: ratio <= 1.3, detail: `${median(sebsCold).toFixed(1)} ms vs ${median(bareCold).toFixed(1)} ms (medians of ${n})` })
  }
  await fn.close?.()
  await provider.close()

  // 3. Cached run start-up versus Vitest with an empty bench file.
  {
    const results = mkdtempSync(join(tmpdir(), 'sebs-perf-'))
    const sebsArgs = ['bin/sebs.mjs', 'bench', '-t', '901.echo nodejs test', '--repetitions', '0', '--benchmarks', FIXTURES, '--cache-dir', CACHE, '--results-dir', results]
    await timeToMarker(sebsArgs, () => firstRecord(results)) // warm the cache
    const emptyDir = mkdtempSync(join(tmpdir(), 'sebs-perf-empty-'))
    const marker = join(emptyDir, 'marker')
    writeFileSync(join(emptyDir, 'empty.bench.ts'), `import { bench } from 'vitest'\nimport { writeFileSync } from 'node:fs'\nbench('noop', async () => { writeFileSync(${JSON.stringify(marker)}, '1') }, { time: 0, warmupTime: 0, iterations: 1, warmupIterations: 0 })\n`)
    writeFileSync(join(emptyDir, 'vitest.config.mjs'), `export default { test: { benchmark: { include: ['*.bench.ts'] } } }\n`)
    const vitestBin = join(ROOT, 'node_modules', 'vitest', 'vitest.mjs')
    // Each sample is a whole process start on a shared machine: enough of them for a stable median.
    const n = quick ? 3 : 8
    const sebsT: number[] = []
    const emptyT: number[] = []
    for (let i = 0; i < n; i++) {
      rmSync(results, { recursive: true, force: true })
      mkdirSync(results)
      sebsT.push(await timeToMarker(sebsArgs, () => firstRecord(results)))
      rmSync(marker, { force: true })
      emptyT.push(await timeToMarker([vitestBin, 'bench', '--run', '--root', emptyDir, '--config', join(emptyDir, 'vitest.config.mjs')], () => existsSync(marker)))
    }
    const ratio = median(sebsT) / median(emptyT)
    rows.push({ what: 'cached run to first invocation ÷ vitest empty bench', ratio, target: '< 3', ok: ratio < 3, detail: `${median(sebsT).toFixed(0)} ms vs ${median(emptyT).toFixed(0)} ms (medians of ${n})` })
  }

  const w = Math.max(...rows.map((r) => r.what.length))
  process.stdout.write(`\n${'measurement'.padEnd(w)}  ratio   target  met  detail\n`)
  for (const r of rows) {
    process.stdout.write(`${r.what.padEnd(w)}  ${r.ratio.toFixed(2).padStart(5)}×  ${r.target.padEnd(6)}  ${r.ok ? 'yes' : 'NO '}  ${r.detail}\n`)
  }
}

function firstRecord(results: string): boolean {
  if (!existsSync(results)) return false
  for (const d of readdirSync(results)) {
    const f = join(results, d, 'invocations.jsonl')
    if (existsSync(f) && readFileSync(f, 'utf8').includes('\n')) return true
  }
  return false
}

/** Spawns a command and returns ms until `done()` holds (polled), then waits for the process to exit. */
async function timeToMarker(args: string[], done: () => boolean): Promise<number> {
  const t0 = performance.now()
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: 'ignore', env: { ...process.env, SEBS_RUN_ID: '', SEBS_CLI_OVERRIDES: '' } })
  const exited = new Promise((r) => child.once('exit', r))
  let elapsed = -1
  const deadline = Date.now() + 300_000
  while (Date.now() < deadline) {
    if (done()) {
      elapsed = performance.now() - t0
      break
    }
    await new Promise((r) => setTimeout(r, 5))
  }
  await exited
  if (elapsed < 0) throw new Error(`no marker from ${args.join(' ')} within 300 s`)
  return elapsed
}

await main()
