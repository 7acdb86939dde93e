/**
 * `npm run perf` (a plain Node script, run by the developer or CI): the
 * speed of the path users run, as ratios against bare baselines measured in
 * the same run (absolute times on shared machines are not stable; ratios
 * measured side by side are).
 *
 * The path users run is the installed package: the script packs this
 * repository (`npm pack`, which runs the build) and installs the tarball with
 * this repository's Vitest into `.sebs-cache/perf/user-project/`
 * (scripts/perf-project.ts; reused while the tarball's sha256 is the same,
 * only the tarball reinstalled when it changed). Every `sebs bench` below runs
 * there as `node <project>/node_modules/serverless-benchmarks/bin/sebs.mjs
 * bench --benchmarks <repo>/scripts/perf-benchmarks …` with the project as
 * working directory: the package's built JavaScript loaded natively from
 * node_modules, no TypeScript loader. Not through `npx sebs`, whose own
 * resolution adds about half a second per start that is npm's, not ours.
 *
 * Every figure comes from that real `sebs bench` on a no-op benchmark
 * (scripts/perf-benchmarks/000.perf/001.noop, Node and Python), read back
 * from the records it wrote:
 *
 *  1. warm client time: median of the warm records' `clientTimeUs` over a
 *     1,000-invocation case ÷ the median round trip of a bare Node HTTP echo
 *     server process with a node:http keep-alive client in a fresh process of
 *     its own (one first request, then 1,000 timed: the sebs case's shape,
 *     whose instance and bench worker are fresh too), measured just before
 *     and just after each run. Target ≤ 1.5× (aim 1.2×).
 *  2. warm invocations/s over that case (first warm send to last warm answer,
 *     gaps between samples included). Target ≥ 2,000.
 *  3. cached start: a second `sebs bench` of one no-op case, spawn to its
 *     first recorded invocation and spawn to exit ÷ Vitest running an empty
 *     bench file from a temporary folder (the project's own
 *     node_modules/vitest; spawn to its bench call, spawn to exit). Target ≤ 2×.
 *  4. cold start: the cold record's `clientTimeUs` (instance spawn to first
 *     answer) ÷ a bare `node` / `python3` HTTP server started the same way
 *     (spawn to first answer). Target ≤ 1.1×.
 *
 * Breakdown (no target): steady state, the last 1,000 of a 3,000-invocation
 * warm case ÷ the last 1,000 of as many bare echo calls (both sides' code
 * optimised by then); the cached start of the repository's own
 * bin/sebs.mjs in the repository (the developer's path: Vitest's module
 * runner loads the plugin's TypeScript sources through the repository's
 * vitest.config.ts), against the same empty Vitest bench runs, so the
 * difference to the installed package is visible; per language, the local
 * provider's `invoke()` called directly, outside Vitest, and the same
 * instance reached with the bare echo's plain client, against the bare echo
 * (instance ÷ bare is the wrapper server's share, direct ÷ instance the
 * provider client's); the bare echo in a session of its own (as local
 * instances run); the time between samples.
 *
 * The printed table's header and the JSON (`path`, `package.version`,
 * `package.tarballSha256`, `install`) say which path was measured.
 *
 * Flags: `--quick` (fewer runs), `--breakdown` (only the breakdown rows of
 * invoke(), about a minute; no pack), `--repo` (no pack or install: every
 * figure from the repository's bin/sebs.mjs, for a machine without the npm
 * registry; the table says so), `--out FILE` (JSON; default
 * results/perf/perf-<time>.json). A failed pack or install stops with the
 * command, its output's tail and the fix.
 */
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { cpus, loadavg, tmpdir, totalmem } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { computeStatistics } from '../analysis/statistics.ts'
import { createLogger } from '../core/logger.ts'
import type { InvocationRecord, Language } from '../core/types.ts'
import { loadBenchmark } from '../engine/discovery.ts'
import { createProvider } from '../providers/registry.ts'
import { PerfSetupError, prepareUserProject, projectEnv, type UserProject } from './perf-project.ts'

const ROOT = resolve(import.meta.dirname, '..')
const PERF_BENCHMARKS = join(ROOT, 'scripts', 'perf-benchmarks')
const CACHE = join(ROOT, '.sebs-cache', 'perf')
/** The user's project: the packed package and Vitest installed as a user installs them (scripts/perf-project.ts). */
const USER_PROJECT = join(CACHE, 'user-project')
const { values: flags } = parseArgs({ options: { quick: { type: 'boolean' }, breakdown: { type: 'boolean' }, repo: { type: 'boolean' }, out: { type: 'string' } }, strict: true })
/** `--repo`: measure the repository's own bin/sebs.mjs (no pack, no install), for machines without the npm registry. */
const repoOnly = flags.repo === true
const quick = flags.quick === true
const outFile = resolve(flags.out ?? join(ROOT, 'results', 'perf', `perf-${new Date().toISOString().replace(/[:.]/g, '-')}.json`))
const PYTHON = process.env.SEBS_PYTHON ?? 'python3'
const REPO_PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; devDependencies: Record<string, string> }
const REPO_VERSION = REPO_PACKAGE.version
/** The Vitest the user's project gets: this repository's own (exact) devDependency. */
const VITEST_VERSION = REPO_PACKAGE.devDependencies.vitest!
/** Warm invocations per measured case (the 1,000-invocation case). */
const WARM = 1000
/**
 * The steady-state breakdown: a warm case of STEADY invocations, read over
 * its last STEADY_LAST, against a bare echo client's last STEADY_LAST of as
 * many calls: both sides' code optimised by then (a sebs case's warm medians
 * per 250 calls fell from ~270 to ~80 µs over 3,000 calls).
 */
const STEADY = 3000
const STEADY_LAST = 1000
/** Runs of the warm case per language; cached-start pairs. */
const WARM_RUNS = quick ? 1 : 3
const START_PAIRS = quick ? 4 : 10

const median = (xs: number[]): number => computeStatistics([...xs].sort((a, b) => a - b)).median
const spread = (xs: number[]): string => (xs.length > 1 ? `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}` : xs[0]!.toFixed(2))

// ---------------------------------------------------------------------------
// Bare baselines: the least a process can do for the same exchange.

/** A Node HTTP server that echoes the event as `{ result: event }`: the wrapper's job minus everything else. */
const BARE_NODE = `
const http = require('node:http')
const server = http.createServer((req, res) => {
  const chunks = []
  req.on('data', (c) => chunks.push(c))
  req.on('end', () => {
    const event = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}')
    const out = JSON.stringify({ result: { n: event.n } })
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) })
    res.end(out)
  })
})
server.keepAliveTimeout = 0
server.listen(0, '127.0.0.1', () => process.stdout.write('READY ' + server.address().port + '\\n'))
process.stdin.on('end', () => process.exit(0))
process.stdin.resume()
`

/** The same in Python's standard library (the wrapper's server is built on it too). */
const BARE_PYTHON = `
import json, sys, threading, os
from http.server import BaseHTTPRequestHandler, HTTPServer
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        event = json.loads(self.rfile.read(n) or b"{}")
        out = json.dumps({"result": {"n": event.get("n")}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)
    def log_message(self, *a):
        pass
def lifeline():
    while sys.stdin.buffer.read(65536):
        pass
    os._exit(0)
threading.Thread(target=lifeline, daemon=True).start()
s = HTTPServer(("127.0.0.1", 0), H)
print("READY %d" % s.server_address[1], flush=True)
s.serve_forever(poll_interval=None)
`

interface Bare {
  port: number
  kill: () => void
}

function startBare(language: Language, options: { detached?: boolean } = {}): Promise<Bare> {
  const [cmd, args] = language === 'python' ? [PYTHON, ['-c', BARE_PYTHON]] : [process.execPath, ['-e', BARE_NODE]]
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'inherit'], detached: options.detached === true })
  return new Promise((ok, fail) => {
    let buf = ''
    const timer = setTimeout(() => fail(new Error(`bare ${language} server did not start in 30 s`)), 30_000)
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString()
      const m = /READY (\d+)/.exec(buf)
      if (m) {
        clearTimeout(timer)
        ok({ port: Number(m[1]), kill: () => child.kill('SIGKILL') })
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      fail(new Error(`bare ${language} server exited (code ${code})`))
    })
  })
}

function post(agent: Agent, port: number, body: string): Promise<string> {
  return new Promise((ok, fail) => {
    const req = request(
      { host: '127.0.0.1', port, method: 'POST', path: '/', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => ok(Buffer.concat(chunks).toString('utf8')))
      },
    )
    req.once('error', fail)
    req.end(body)
  })
}

/**
 * The bare echo's client: a fresh Node process of its own (as every sebs
 * run's bench worker is fresh) with a node:http keep-alive client: one first
 * request (as the sebs case's cold one), then CALLS round trips timed around
 * the request alone. Prints the median of all of them and of the last LAST.
 * In the script's own process the client's code got faster with every
 * measurement (V8 optimising node:http over thousands of calls: 297, 291,
 * 209, 185, 127, 118 µs for eight successive measurements on a quiet
 * machine, while a fresh client process read 307–346 µs), so the baseline
 * drifted by 2–3× across one run and a ratio depended on where it was taken.
 */
const BARE_CLIENT = `
const http = require('node:http')
const [port, calls, last] = process.argv.slice(1).map(Number)
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
const body = JSON.stringify({ n: 1 })
const post = () => new Promise((ok, fail) => {
  const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
    const chunks = []
    res.on('data', (c) => chunks.push(c))
    res.on('end', () => ok(Buffer.concat(chunks).toString('utf8')))
  })
  req.once('error', fail)
  req.end(body)
})
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2 }
;(async () => {
  await post()
  const samples = []
  for (let i = 0; i < calls; i++) {
    const t0 = performance.now()
    const answer = await post()
    samples.push((performance.now() - t0) * 1000)
    if (!answer.includes('"n":1')) throw new Error('bare echo answered ' + answer)
  }
  agent.destroy()
  process.stdout.write(JSON.stringify({ medianUs: median(samples), lastMedianUs: median(samples.slice(-last)) }) + '\\n')
})().catch((err) => { process.stderr.write(String(err && err.stack || err) + '\\n'); process.exit(1) })
`

/**
 * A fresh bare Node echo process answering a fresh client process (BARE_CLIENT):
 * the same shape as a sebs case (fresh instance, fresh worker, one cold
 * request, then `calls` warm ones). Median round trip of all warm calls and
 * of the last `last`, µs.
 */
async function bareEcho(options: { detached?: boolean; calls?: number; last?: number } = {}): Promise<{ medianUs: number; lastMedianUs: number }> {
  const bare = await startBare('nodejs', options)
  try {
    const calls = options.calls ?? WARM
    const out = execFileSync(process.execPath, ['-e', BARE_CLIENT, String(bare.port), String(calls), String(options.last ?? calls)], { encoding: 'utf8', timeout: 300_000 })
    return JSON.parse(out) as { medianUs: number; lastMedianUs: number }
  } finally {
    bare.kill()
  }
}

/** Median warm round trip of a fresh bare echo and a fresh client, µs (see bareEcho). */
async function bareEchoMedianUs(options: { detached?: boolean } = {}): Promise<number> {
  return (await bareEcho(options)).medianUs
}

/** Spawn of a bare server to its first answer (a new connection, as an instance's first request), ms. */
async function bareStartMs(language: Language): Promise<number> {
  const t0 = performance.now()
  const bare = await startBare(language)
  const agent = new Agent({ keepAlive: false })
  try {
    await post(agent, bare.port, JSON.stringify({ n: 1 }))
    return performance.now() - t0
  } finally {
    agent.destroy()
    bare.kill()
  }
}

// ---------------------------------------------------------------------------
// The path users run.

interface SebsRun {
  language: Language
  /** Spawn to the first record on disk, ms; spawn to exit, ms. */
  firstRecordMs: number
  wholeMs: number
  coldClientMs: number
  warm: number
  warmClientMedianUs?: number
  warmPerSecond?: number
  /** Mean time per warm iteration minus the mean client time: what happens between samples, µs. */
  betweenSamplesUs?: number
  /** Median clientTimeUs of the last STEADY_LAST warm records (runs longer than that). */
  warmLastMedianUs?: number
}

/**
 * Where a `sebs bench` runs. The installed package: `node
 * <project>/node_modules/serverless-benchmarks/bin/sebs.mjs` with the project
 * as working directory, its default cache (`<project>/.sebs-cache`) and no
 * Vitest config of its own, so the package's built JavaScript loads natively
 * from node_modules, as after a user's `npm i -D serverless-benchmarks`. Not
 * `npx sebs`: npx's own resolution adds ~0.5 s per start that is npm's, not
 * this package's. The repository: this checkout's bin/sebs.mjs in this
 * checkout (the developer's path), where Vitest's module runner loads the
 * plugin's TypeScript sources through the repository's vitest.config.ts.
 */
interface SebsPath {
  kind: 'installed package' | 'repository'
  bin: string
  cwd: string
  /** Extra arguments: the repository's runs keep their packages in the perf cache. */
  extraArgs: string[]
  /** The Vitest that the empty bench baseline runs: the one beside this sebs. */
  vitestBin: string
}

const REPO_PATH: SebsPath = {
  kind: 'repository',
  bin: join(ROOT, 'bin', 'sebs.mjs'),
  cwd: ROOT,
  extraArgs: ['--cache-dir', CACHE],
  vitestBin: join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'),
}

function installedPath(project: string): SebsPath {
  return {
    kind: 'installed package',
    bin: join(project, 'node_modules', 'serverless-benchmarks', 'bin', 'sebs.mjs'),
    cwd: project,
    extraArgs: [],
    vitestBin: join(project, 'node_modules', 'vitest', 'vitest.mjs'),
  }
}

async function sebsBench(path: SebsPath, language: Language, repetitions: number): Promise<SebsRun> {
  const results = mkdtempSync(join(tmpdir(), 'sebs-perf-results-'))
  try {
    const args = [
      path.bin, 'bench',
      '--benchmarks', PERF_BENCHMARKS, '-t', '001.noop', '--language', language,
      '--repetitions', String(repetitions), '--results-dir', results, ...path.extraArgs,
    ]
    const { firstMs, wholeMs, code, output } = await timeProcess(args, () => firstRecordWritten(results), path.cwd)
    if (code !== 0) throw new Error(`sebs bench (${language}, ${path.kind}) exited with ${code}:\n${output.slice(-3000)}`)
    const records = readRunRecords(results)
    const cold = records.find((r) => r.phase === 'cold')
    const warm = records.filter((r) => r.phase === 'warm')
    const bad = records.filter((r) => r.state !== 'ok' || !r.outputValid)
    if (!cold || !cold.isCold || warm.length !== repetitions || bad.length > 0) {
      throw new Error(`sebs bench (${language}): expected 1 cold + ${repetitions} warm valid records, got ${records.length} (${bad.length} failed): ${JSON.stringify(bad[0] ?? cold)}`)
    }
    const run: SebsRun = { language, firstRecordMs: firstMs, wholeMs, coldClientMs: cold.clientTimeUs / 1000, warm: warm.length }
    if (warm.length > 1) {
      const clients = warm.map((r) => r.clientTimeUs)
      run.warmClientMedianUs = median(clients)
      if (clients.length > STEADY_LAST) run.warmLastMedianUs = median(clients.slice(-STEADY_LAST))
      // startedAt is the send time (epoch ms); the span runs to the last answer.
      const last = warm.at(-1)!
      const spanMs = last.startedAt! + last.clientTimeUs / 1000 - warm[0]!.startedAt!
      run.warmPerSecond = (warm.length / spanMs) * 1000
      run.betweenSamplesUs = (spanMs * 1000) / warm.length - clients.reduce((a, b) => a + b, 0) / clients.length
    }
    return run
  } finally {
    rmSync(results, { recursive: true, force: true })
  }
}

function readRunRecords(results: string): InvocationRecord[] {
  for (const d of readdirSync(results)) {
    const f = join(results, d, 'invocations.jsonl')
    if (existsSync(f)) return readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as InvocationRecord)
  }
  throw new Error(`no invocations.jsonl under ${results}`)
}

function firstRecordWritten(results: string): boolean {
  if (!existsSync(results)) return false
  for (const d of readdirSync(results)) {
    const f = join(results, d, 'invocations.jsonl')
    if (existsSync(f) && readFileSync(f, 'utf8').includes('\n')) return true
  }
  return false
}

/** An empty Vitest bench file (one no-op bench call that leaves a marker): Vitest's own start-up. */
function emptyVitestBench(vitestBin: string): { args: string[]; marker: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sebs-perf-empty-'))
  const marker = join(dir, 'marker')
  writeFileSync(
    join(dir, 'empty.bench.js'),
    `import { bench } from 'vitest'\nimport { writeFileSync } from 'node:fs'\nbench('noop', async () => { writeFileSync(${JSON.stringify(marker)}, '1') }, { time: 0, warmupTime: 0, iterations: 1, warmupIterations: 0 })\n`,
  )
  writeFileSync(join(dir, 'vitest.config.mjs'), `export default { test: { benchmark: { include: ['*.bench.js'] } } }\n`)
  return { args: [vitestBin, 'bench', '--run', '--root', dir, '--config', join(dir, 'vitest.config.mjs')], marker, dir }
}

/**
 * Spawns `node ARGS` in `cwd`; ms until `done()` holds (polled every 2 ms)
 * and until the process exits. Without the npm variables of `npm run perf`
 * (projectEnv), as a user's shell would start it.
 */
async function timeProcess(args: string[], done: () => boolean, cwd = ROOT): Promise<{ firstMs: number; wholeMs: number; code: number | null; output: string }> {
  const t0 = performance.now()
  const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: projectEnv({ SEBS_RUN_ID: '', SEBS_CLI_OVERRIDES: '', NO_COLOR: '1' }) })
  let output = ''
  child.stdout.on('data', (d: Buffer) => (output += d.toString()))
  child.stderr.on('data', (d: Buffer) => (output += d.toString()))
  let wholeMs = -1
  let code: number | null = null
  const exited = new Promise<void>((r) =>
    child.once('exit', (c) => {
      wholeMs = performance.now() - t0
      code = c
      r()
    }),
  )
  let firstMs = -1
  const deadline = Date.now() + 300_000
  while (Date.now() < deadline && wholeMs < 0) {
    if (done()) {
      firstMs = performance.now() - t0
      break
    }
    await new Promise((r) => setTimeout(r, 2))
  }
  await exited
  if (firstMs < 0 && done()) firstMs = wholeMs
  if (firstMs < 0) throw new Error(`no marker from node ${args.join(' ')} (exit code ${code}):\n${output.slice(-6000)}`)
  return { firstMs, wholeMs, code, output }
}

// ---------------------------------------------------------------------------
// Breakdown: the local provider's invoke() called directly, outside Vitest.

interface Breakdown {
  language: Language
  /** Median clientTimeUs of invoke() called directly. */
  directUs: number
  /** Median round trip of the plain keep-alive client to the package's wrapper server started by hand (no invoke()). */
  instanceUs: number
  /** Median round trip of the plain client to the bare echo. */
  bareUs: number
}

/**
 * The package's own wrapper server started by hand, as the provider starts an
 * instance (its own session, its own TMPDIR) but without a memory limit: a
 * second client cannot share a provider's instance, which serves one
 * connection at a time (the provider's).
 */
function startPackageServer(language: Language, packageDir: string): Promise<Bare> {
  const [cmd, args] = language === 'python' ? [PYTHON, ['-u', 'server.py']] : [process.execPath, ['server.js']]
  const tmp = mkdtempSync(join(tmpdir(), 'sebs-perf-instance-'))
  const child = spawn(cmd, args, { cwd: packageDir, env: { ...process.env, TMPDIR: tmp }, stdio: ['pipe', 'pipe', 'inherit'], detached: true })
  return new Promise((ok, fail) => {
    let buf = ''
    const timer = setTimeout(() => fail(new Error(`the ${language} package server did not start in 30 s`)), 30_000)
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString()
      const m = /SEBS_READY (\d+)/.exec(buf)
      if (m) {
        clearTimeout(timer)
        ok({ port: Number(m[1]), kill: () => { child.kill('SIGKILL'); rmSync(tmp, { recursive: true, force: true }) } })
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      fail(new Error(`the ${language} package server exited (code ${code})`))
    })
  })
}

/**
 * Where the warm overhead sits, for one language: invoke() called directly
 * (no Vitest), the package's wrapper server reached with the plain client
 * the bare echo gets (the difference between the two is the provider's
 * client side: local-function.ts, http-invoke.ts, and the instance's memory
 * limit), and the bare echo (the difference to the package's server is the
 * wrapper server and its envelope). Alternating blocks: load drifts over seconds, and every side
 * sees it alike.
 */
async function directInvokeBreakdown(language: Language): Promise<Breakdown> {
  const logger = createLogger('sebs', { quiet: true })
  const runId = `perf-${Date.now()}`
  const provider = await createProvider('local', { runId, cacheDir: CACHE, logger, options: {} })
  try {
    const bench = loadBenchmark(join(PERF_BENCHMARKS, '000.perf', '001.noop'), PERF_BENCHMARKS)
    const pkg = await provider.package({ benchmark: bench, language, arch: 'x64' }, { cacheDir: CACHE, logger, runtimes: { python: PYTHON, node: process.execPath } })
    const deployed = await provider.deploy(pkg, { runId, memory: 128, timeout: 30, trigger: 'http', env: {} })
    const fn = provider.connect(deployed.handle)
    const bare = await startBare('nodejs')
    const server = await startPackageServer(language, (deployed.handle.data as { packageDir: string }).packageDir)
    const bareAgent = new Agent({ keepAlive: true, maxSockets: 1 })
    const instanceAgent = new Agent({ keepAlive: true, maxSockets: 1 })
    const body = JSON.stringify({ n: 1 })
    const direct: number[] = []
    const instance: number[] = []
    const plain: number[] = []
    try {
      if ((await fn.invoke({ n: 1 })).state !== 'ok') throw new Error(`direct invoke (${language}) failed`)
      const timed = async (agent: Agent, p: number, into: number[]) => {
        const t0 = performance.now()
        const answer = await post(agent, p, body)
        into.push((performance.now() - t0) * 1000)
        if (!answer.includes('"n"')) throw new Error(`unexpected answer ${answer.slice(0, 200)}`)
      }
      for (let block = 0; block < (quick ? 4 : 10); block++) {
        for (let i = 0; i < 100; i++) {
          const r = await fn.invoke({ n: 1 })
          if (r.state !== 'ok') throw new Error(`direct invoke (${language}) failed: ${r.state}`)
          direct.push(r.clientTimeUs)
        }
        for (let i = 0; i < 100; i++) await timed(instanceAgent, server.port, instance)
        for (let i = 0; i < 100; i++) await timed(bareAgent, bare.port, plain)
      }
    } finally {
      bareAgent.destroy()
      instanceAgent.destroy()
      bare.kill()
      server.kill()
      await fn.close?.()
    }
    return { language, directUs: median(direct), instanceUs: median(instance), bareUs: median(plain) }
  } finally {
    await provider.close()
  }
}

// ---------------------------------------------------------------------------

interface Row {
  what: string
  ratio?: number
  value?: number
  target: string
  ok: boolean
  detail: string
  /** Per-run ratios (or values), for the spread. */
  runs: number[]
}

/** Whether the kernel groups scheduling by session (/proc/sys/kernel/sched_autogroup_enabled). */
function autogroup(): string {
  try {
    return readFileSync('/proc/sys/kernel/sched_autogroup_enabled', 'utf8').trim() === '1' ? 'on' : 'off'
  } catch {
    return 'unknown'
  }
}

function machine(): Record<string, unknown> {
  let python = 'unknown'
  try {
    python = execFileSync(PYTHON, ['--version'], { encoding: 'utf8' }).trim()
  } catch {
    // reported as unknown
  }
  return { cpu: cpus()[0]?.model, cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, python, loadAverage: loadavg(), schedAutogroup: autogroup() }
}

/** The breakdown rows of each language: direct invoke() and its package's server with the plain client, against the bare echo. */
function breakdownRows(breakdowns: Breakdown[]): Row[] {
  const rows: Row[] = []
  for (const b of breakdowns) {
    rows.push({
      what: `breakdown: direct invoke() (${b.language}, no Vitest) ÷ bare echo`,
      ratio: b.directUs / b.bareUs,
      target: '-',
      ok: true,
      runs: [],
      detail: `${b.directUs.toFixed(0)} µs vs ${b.bareUs.toFixed(0)} µs`,
    })
    rows.push({
      what: `breakdown: its package's server, plain client (${b.language}) ÷ bare echo`,
      ratio: b.instanceUs / b.bareUs,
      target: '-',
      ok: true,
      runs: [],
      detail: `${b.instanceUs.toFixed(0)} µs vs ${b.bareUs.toFixed(0)} µs (wrapper server and envelope)`,
    })
    rows.push({
      what: `breakdown: direct invoke() ÷ its package's server, plain client (${b.language})`,
      ratio: b.directUs / b.instanceUs,
      target: '-',
      ok: true,
      runs: [],
      detail: `${b.directUs.toFixed(0)} µs vs ${b.instanceUs.toFixed(0)} µs (the provider's client side and the instance's limits)`,
    })
  }
  return rows
}

function printRows(rows: Row[], header: string): void {
  const w = Math.max(...rows.map((r) => r.what.length))
  process.stdout.write(`\n${header}\n${'measurement'.padEnd(w)}  value    target  met  detail\n`)
  for (const r of rows) {
    const v = r.ratio !== undefined ? `${r.ratio.toFixed(2)}×` : r.value!.toFixed(0)
    process.stdout.write(`${r.what.padEnd(w)}  ${v.padStart(7)}  ${r.target.padEnd(6)}  ${r.target === '-' ? '   ' : r.ok ? 'yes' : 'NO '}  ${r.detail}\n`)
  }
}

async function main(): Promise<void> {
  mkdirSync(CACHE, { recursive: true })
  const startedAt = new Date().toISOString()
  const load0 = loadavg()[0]
  if (flags.breakdown) {
    // Only where the warm overhead sits (about a minute): no sebs bench runs.
    const breakdowns = [await directInvokeBreakdown('nodejs'), await directInvokeBreakdown('python')]
    const rows = breakdownRows(breakdowns)
    printRows(rows, 'breakdown only: the local provider of this repository, outside Vitest (no sebs bench)')
    mkdirSync(dirname(outFile), { recursive: true })
    writeFileSync(outFile, JSON.stringify({ startedAt, finishedAt: new Date().toISOString(), quick, machine: { ...machine(), loadAverageAtStart: load0 }, rows, breakdown: { invoke: breakdowns } }, null, 2) + '\n')
    process.stdout.write(`\nwritten to ${outFile}\n`)
    return
  }
  // The path measured: the installed package in the user's project, unless --repo.
  const user: UserProject | undefined = repoOnly ? undefined : prepareUserProject(ROOT, USER_PROJECT, VITEST_VERSION, (l) => process.stdout.write(l))
  const path = user ? installedPath(user.project) : REPO_PATH
  const pathLine = user
    ? `path measured: installed package (${user.project}: serverless-benchmarks ${user.packageVersion}, tarball sha256 ${user.tarballHash.slice(0, 12)}, vitest ${user.vitest})`
    : `path measured: repository (${REPO_PATH.bin} in ${ROOT}, --repo)`
  process.stdout.write(`${pathLine}\n`)
  // Builds and caches both packages on every path measured, so every measured run is a cached rerun.
  for (const language of ['nodejs', 'python'] as const) {
    await sebsBench(path, language, 1)
    if (path !== REPO_PATH) await sebsBench(REPO_PATH, language, 0)
  }

  // 1 + 2: warm cases, each between two bare echo measurements.
  const warmRuns: Array<{ run: SebsRun; bareUs: number }> = []
  let bareBefore = await bareEchoMedianUs()
  for (let i = 0; i < WARM_RUNS; i++) {
    for (const language of ['nodejs', 'python'] as const) {
      const run = await sebsBench(path, language, WARM)
      const bareAfter = await bareEchoMedianUs()
      warmRuns.push({ run, bareUs: median([bareBefore, bareAfter]) })
      process.stdout.write(`warm ${language}: ${run.warmClientMedianUs!.toFixed(0)} µs vs bare ${bareBefore.toFixed(0)}/${bareAfter.toFixed(0)} µs, ${run.warmPerSecond!.toFixed(0)}/s\n`)
      bareBefore = bareAfter
    }
  }

  // 3 + 4: cached starts against an empty Vitest bench (the Vitest beside the
  // measured sebs), with the repository's own start (a breakdown row, when the
  // installed package is measured) and bare server starts between.
  const empty = emptyVitestBench(path.vitestBin)
  const starts: SebsRun[] = []
  const repoStarts: SebsRun[] = []
  const emptyFirst: number[] = []
  const emptyWhole: number[] = []
  const bareStarts: Record<Language, number[]> = { nodejs: [], python: [] }
  try {
    for (let i = 0; i < START_PAIRS; i++) {
      const language: Language = i % 2 === 0 ? 'nodejs' : 'python'
      starts.push(await sebsBench(path, language, 0))
      rmSync(empty.marker, { force: true })
      const e = await timeProcess(empty.args, () => existsSync(empty.marker), path.cwd)
      if (e.code !== 0) throw new Error(`empty vitest bench exited with ${e.code}:\n${e.output.slice(-2000)}`)
      emptyFirst.push(e.firstMs)
      emptyWhole.push(e.wholeMs)
      if (path !== REPO_PATH) repoStarts.push(await sebsBench(REPO_PATH, language, 0))
      bareStarts[language].push(await bareStartMs(language))
      const repo = repoStarts.at(-1)
      process.stdout.write(
        `start ${language}: first record ${starts.at(-1)!.firstRecordMs.toFixed(0)} ms, exit ${starts.at(-1)!.wholeMs.toFixed(0)} ms; empty vitest ${e.firstMs.toFixed(0)}/${e.wholeMs.toFixed(0)} ms` +
          (repo ? `; repository ${repo.firstRecordMs.toFixed(0)}/${repo.wholeMs.toFixed(0)} ms` : '') + '\n',
      )
    }
  } finally {
    rmSync(empty.dir, { recursive: true, force: true })
  }

  // Steady state: both sides after thousands of calls (no target; the targets are for a 1,000-call case).
  const steady: Array<{ language: Language; sebsUs: number; bareUs: number }> = []
  for (const language of ['nodejs', 'python'] as const) {
    const run = await sebsBench(path, language, STEADY)
    const bare = await bareEcho({ calls: STEADY, last: STEADY_LAST })
    steady.push({ language, sebsUs: run.warmLastMedianUs!, bareUs: bare.lastMedianUs })
    process.stdout.write(`steady ${language}: last ${STEADY_LAST} of ${STEADY}: ${run.warmLastMedianUs!.toFixed(0)} µs vs bare ${bare.lastMedianUs.toFixed(0)} µs\n`)
  }

  const breakdowns = [await directInvokeBreakdown('nodejs'), await directInvokeBreakdown('python')]
  // Local instances run in their own session (process-group kills); with the
  // kernel's autogroup scheduling that is also their own scheduling group,
  // which a loaded machine wakes later. The same bare echo in its own session
  // shows how much of the warm ratio that is.
  const bareOwnSession = median([await bareEchoMedianUs({ detached: true }), await bareEchoMedianUs(), await bareEchoMedianUs({ detached: true })])
  const bareSameSession = median(warmRuns.map((w) => w.bareUs))

  const rows: Row[] = []
  for (const language of ['nodejs', 'python'] as const) {
    const runs = warmRuns.filter((w) => w.run.language === language)
    const ratios = runs.map((w) => w.run.warmClientMedianUs! / w.bareUs)
    const ratio = median(ratios)
    rows.push({
      what: `warm client median (${language}) ÷ bare echo`,
      ratio,
      target: '≤ 1.5',
      ok: ratio <= 1.5,
      runs: ratios,
      detail: `${median(runs.map((w) => w.run.warmClientMedianUs!)).toFixed(0)} µs vs ${median(runs.map((w) => w.bareUs)).toFixed(0)} µs; ${runs.length} run(s), ratios ${spread(ratios)}`,
    })
  }
  for (const language of ['nodejs', 'python'] as const) {
    const rates = warmRuns.filter((w) => w.run.language === language).map((w) => w.run.warmPerSecond!)
    const between = warmRuns.filter((w) => w.run.language === language).map((w) => w.run.betweenSamplesUs!)
    const value = median(rates)
    rows.push({
      what: `warm invocations/s (${language}, ${WARM} in one case)`,
      value,
      target: '≥ 2000',
      ok: value >= 2000,
      runs: rates,
      detail: `${rates.map((r) => r.toFixed(0)).join(', ')}; between samples ${median(between).toFixed(0)} µs`,
    })
  }
  {
    const first = starts.map((s) => s.firstRecordMs)
    const whole = starts.map((s) => s.wholeMs)
    const r1 = median(first) / median(emptyFirst)
    const r2 = median(whole) / median(emptyWhole)
    // The languages alternate; their own medians show what one of them adds (a Python start runs python3 once for its version, part of the package cache key: providers/local/local-provider.ts resolveInterpreter).
    const byLanguage = (f: (s: SebsRun) => number) => (['nodejs', 'python'] as const).map((l) => `${l} ${median(starts.filter((s) => s.language === l).map(f)).toFixed(0)} ms`).join(', ')
    rows.push({ what: 'cached start: spawn → first record ÷ empty vitest bench', ratio: r1, target: '≤ 2', ok: r1 <= 2, runs: first.map((f, i) => f / emptyFirst[i]!), detail: `${median(first).toFixed(0)} ms vs ${median(emptyFirst).toFixed(0)} ms (medians of ${first.length}; ${byLanguage((s) => s.firstRecordMs)})` })
    rows.push({ what: 'cached start: whole process ÷ empty vitest bench', ratio: r2, target: '≤ 2', ok: r2 <= 2, runs: whole.map((f, i) => f / emptyWhole[i]!), detail: `${median(whole).toFixed(0)} ms vs ${median(emptyWhole).toFixed(0)} ms (medians of ${whole.length}; ${byLanguage((s) => s.wholeMs)})` })
  }
  if (repoStarts.length > 0) {
    // The developer's path beside the user's, against the same empty bench runs (one of each per round).
    const first = repoStarts.map((s) => s.firstRecordMs)
    const whole = repoStarts.map((s) => s.wholeMs)
    const r1 = median(first) / median(emptyFirst)
    const r2 = median(whole) / median(emptyWhole)
    rows.push({ what: 'breakdown: repository bin/sebs.mjs cached start, first record ÷ empty vitest', ratio: r1, target: '-', ok: true, runs: first.map((f, i) => f / emptyFirst[i]!), detail: `${median(first).toFixed(0)} ms vs ${median(emptyFirst).toFixed(0)} ms (the developer's path: TypeScript sources through Vitest's module runner)` })
    rows.push({ what: 'breakdown: repository bin/sebs.mjs cached start, whole process ÷ empty vitest', ratio: r2, target: '-', ok: true, runs: whole.map((f, i) => f / emptyWhole[i]!), detail: `${median(whole).toFixed(0)} ms vs ${median(emptyWhole).toFixed(0)} ms; ${(median(whole) / median(starts.map((s) => s.wholeMs))).toFixed(2)}× the installed package's` })
  }
  for (const language of ['nodejs', 'python'] as const) {
    const cold = [...warmRuns.map((w) => w.run), ...starts].filter((s) => s.language === language).map((s) => s.coldClientMs)
    const bare = bareStarts[language]
    const ratio = median(cold) / median(bare)
    rows.push({
      what: `cold start (${language}) ÷ bare ${language === 'python' ? 'python3' : 'node'} server start`,
      ratio,
      target: '≤ 1.1',
      ok: ratio <= 1.1,
      runs: cold,
      detail: `${median(cold).toFixed(1)} ms vs ${median(bare).toFixed(1)} ms (medians of ${cold.length} and ${bare.length})`,
    })
  }
  rows.push({
    what: 'breakdown: bare echo in its own session ÷ bare echo',
    ratio: bareOwnSession / bareSameSession,
    target: '-',
    ok: true,
    runs: [],
    detail: `${bareOwnSession.toFixed(0)} µs vs ${bareSameSession.toFixed(0)} µs (sched autogroup ${autogroup()})`,
  })
  for (const st of steady) {
    rows.push({
      what: `breakdown: steady state (${st.language}), last ${STEADY_LAST} of ${STEADY} warm ÷ bare echo's`,
      ratio: st.sebsUs / st.bareUs,
      target: '-',
      ok: true,
      runs: [],
      detail: `${st.sebsUs.toFixed(0)} µs vs ${st.bareUs.toFixed(0)} µs (both sides' code optimised by then)`,
    })
  }
  rows.push(...breakdownRows(breakdowns))

  printRows(rows, pathLine)
  mkdirSync(dirname(outFile), { recursive: true })
  const measured = user
    ? { path: path.kind, project: user.project, package: { name: 'serverless-benchmarks', version: user.packageVersion, tarballSha256: user.tarballHash }, vitest: user.vitest, install: { plan: user.plan, packMs: user.packMs, installMs: user.installMs } }
    : { path: path.kind, project: ROOT, package: { name: 'serverless-benchmarks', version: REPO_VERSION }, vitest: VITEST_VERSION }
  writeFileSync(
    outFile,
    JSON.stringify({ startedAt, finishedAt: new Date().toISOString(), quick, ...measured, machine: { ...machine(), loadAverageAtStart: load0 }, rows, warmRuns, steady, starts, repoStarts, emptyVitest: { firstMs: emptyFirst, wholeMs: emptyWhole }, bareStartMs: bareStarts, breakdown: { invoke: breakdowns, bareOwnSessionUs: bareOwnSession, bareSameSessionUs: bareSameSession } }, null, 2) + '\n',
  )
  process.stdout.write(`\nwritten to ${outFile}\n`)
}

try {
  await main()
} catch (err) {
  // npm's failures are the user's to fix (registry, build): the message, no stack.
  if (!(err instanceof PerfSetupError)) throw err
  process.stderr.write(`perf: error [${err.code}]: ${err.message}\n`)
  process.exitCode = 1
}
