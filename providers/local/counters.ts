/**
 * Counters of a local function instance, read from the harness side around
 * one invocation (SeBS's local `papi`, `memory` and `disk-io` experiments):
 *
 *  - `perf`: Linux perf events through `perf stat -p <pid>`, started disabled
 *    and switched on/off through its control FIFO, so exactly the invocation
 *    is counted. Hardware events (instructions, cycles, …) are often
 *    `<not supported>` on VMs without a PMU; they are then reported in
 *    `unsupported`, never as zero.
 *  - `callgrind`: instruction counts (Ir) from valgrind's callgrind, for an
 *    instance started under it (instance.ts, `profiler: 'callgrind'`):
 *    zeroed before and dumped after the invocation. Deterministic and
 *    available everywhere valgrind is, at 20–50× the run time.
 *  - `procfs`: resident and proportional set size (RSS, PSS) sampled from
 *    /proc/<pid>/smaps_rollup over the invocation, for the instance and the
 *    processes it started.
 *
 * The wrapper itself adds per-invocation rusage counters (page faults,
 * context switches, file-system operations) and /proc/self/io bytes to the
 * envelope; see wrappers/.
 */
import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { open, readFile, readdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { CounterValue } from '../../core/types.ts'

// ---------------------------------------------------------------------------
// procfs memory sampling

export interface MemorySample {
  /** ms since sampling started. */
  tMs: number
  rssKb: number
  pssKb?: number
}

export interface MemoryProfile {
  samples: MemorySample[]
  peakRssKb: number
  peakPssKb?: number
  /** Processes seen (the instance and its descendants). */
  pids: number[]
}

function parseKb(text: string, field: string): number | undefined {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(text)
  return m ? Number(m[1]) : undefined
}

/** The pid and its descendants (through /proc/<pid>/task/<tid>/children, where the kernel has it). */
export function processTree(pid: number): number[] {
  const seen = new Set<number>()
  const stack = [pid]
  while (stack.length > 0) {
    const p = stack.pop()!
    if (seen.has(p)) continue
    seen.add(p)
    let tasks: string[] = []
    try {
      tasks = readdirSync(`/proc/${p}/task`)
    } catch {
      continue
    }
    for (const tid of tasks) {
      try {
        for (const child of readFileSync(`/proc/${p}/task/${tid}/children`, 'utf8').trim().split(/\s+/)) {
          if (child) stack.push(Number(child))
        }
      } catch {
        // The task ended, or the kernel lacks CONFIG_PROC_CHILDREN.
      }
    }
  }
  return [...seen]
}

/** RSS and PSS (kB) of one process now; undefined when it is gone. */
export async function readMemoryUsage(pid: number): Promise<{ rssKb: number; pssKb?: number } | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8')
    const rssKb = parseKb(text, 'Rss')
    if (rssKb !== undefined) return { rssKb, pssKb: parseKb(text, 'Pss') }
  } catch {
    // smaps_rollup needs Linux ≥ 4.14; fall back to status (RSS only).
  }
  try {
    const rssKb = parseKb(await readFile(`/proc/${pid}/status`, 'utf8'), 'VmRSS')
    return rssKb === undefined ? undefined : { rssKb }
  } catch {
    return undefined
  }
}

export interface MemorySampler {
  /** Stops sampling (after one last sample) and returns what was seen. */
  stop(): Promise<MemoryProfile>
}

/**
 * Samples the RSS/PSS of a process tree every `intervalMs` until stopped.
 * The first sample is taken at once; a sample never overlaps the previous one.
 */
export function sampleMemory(pid: number, options: { intervalMs?: number } = {}): MemorySampler {
  const intervalMs = options.intervalMs ?? 10
  const started = performance.now()
  const samples: MemorySample[] = []
  const pids = new Set<number>()
  let stopped = false
  let timer: NodeJS.Timeout | undefined
  let inFlight: Promise<void> = Promise.resolve()

  const takeSample = async (): Promise<void> => {
    const tree = processTree(pid)
    let rssKb = 0
    let pssKb: number | undefined = 0
    let any = false
    for (const p of tree) {
      const usage = await readMemoryUsage(p)
      if (!usage) continue
      any = true
      pids.add(p)
      rssKb += usage.rssKb
      pssKb = usage.pssKb === undefined || pssKb === undefined ? undefined : pssKb + usage.pssKb
    }
    if (any) samples.push({ tMs: performance.now() - started, rssKb, ...(pssKb !== undefined ? { pssKb } : {}) })
  }
  const loop = (): void => {
    if (stopped) return
    inFlight = takeSample().finally(() => {
      if (!stopped) timer = setTimeout(loop, intervalMs)
    })
  }
  loop()

  return {
    async stop() {
      stopped = true
      clearTimeout(timer)
      await inFlight
      await takeSample()
      const peakRssKb = samples.reduce((m, s) => Math.max(m, s.rssKb), 0)
      const pss = samples.filter((s) => s.pssKb !== undefined).map((s) => s.pssKb!)
      return { samples, peakRssKb, ...(pss.length > 0 ? { peakPssKb: Math.max(...pss) } : {}), pids: [...pids] }
    },
  }
}

// ---------------------------------------------------------------------------
// perf stat

/** Events asked of perf by default: SeBS's PAPI sets map to these where a PMU exists. */
export const DEFAULT_PERF_EVENTS = [
  'task-clock',
  'context-switches',
  'cpu-migrations',
  'page-faults',
  'instructions',
  'cycles',
  'branches',
  'branch-misses',
  'cache-references',
  'cache-misses',
] as const

export interface PerfResult {
  counters: Record<string, CounterValue>
  /** Events the kernel or the machine does not support (`<not supported>`, `<not counted>`). */
  unsupported: string[]
}

/**
 * Parses `perf stat -x,` output: `value,unit,event,run-time,percentage,…`.
 * task-clock is reported in msec; it becomes `task-clock-ns` in ns (an integer).
 */
export function parsePerfStat(text: string): PerfResult {
  const counters: Record<string, CounterValue> = {}
  const unsupported: string[] = []
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue
    const fields = line.split(',')
    if (fields.length < 3) continue
    const [raw, unit, event] = fields as [string, string, string]
    if (!event) continue
    if (raw.startsWith('<')) {
      unsupported.push(event)
      continue
    }
    const value = Number(raw)
    if (!Number.isFinite(value)) continue
    if (unit === 'msec') counters[`${event}-ns`] = { value: Math.round(value * 1e6), source: 'perf' }
    else counters[event] = { value, source: 'perf' }
  }
  return { counters, unsupported }
}

export interface PerfSession {
  /** Stops counting and returns the counts of the enabled interval. */
  stop(): Promise<PerfResult>
}

/** Whether `perf` is installed (checked once). */
let perfPresent: Promise<boolean> | undefined
export function perfAvailable(): Promise<boolean> {
  perfPresent ??= new Promise((resolve) => {
    execFile('perf', ['version'], { timeout: 10_000 }, (err) => resolve(!err))
  })
  return perfPresent
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms)
      }),
    ])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Attaches `perf stat` to a running process with counting disabled, then
 * enables it; resolves once perf acknowledged (so the invocation that
 * follows is counted from its start). Rejects when perf is missing or cannot
 * attach.
 */
export async function startPerfStat(pid: number, events: readonly string[] = DEFAULT_PERF_EVENTS): Promise<PerfSession> {
  const dir = mkdtempSync(join(tmpdir(), 'sebs-perf-'))
  const ctl = join(dir, 'ctl')
  const ack = join(dir, 'ack')
  const out = join(dir, 'out')
  const mkfifo = (path: string) =>
    new Promise<void>((resolve, reject) => execFile('mkfifo', [path], (err) => (err ? reject(err) : resolve())))
  await mkfifo(ctl)
  await mkfifo(ack)
  const child = spawn('perf', ['stat', '-x,', '-e', events.join(','), '-D', '-1', '--control', `fifo:${ctl},${ack}`, '-p', String(pid), '-o', out], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()))
  const exited = once(child, 'exit').catch(() => undefined)
  const cleanup = () => rmSync(dir, { recursive: true, force: true })
  try {
    // Opening a FIFO blocks until the other side opens it: perf opens both once attached.
    const ctlHandle = await withTimeout(open(ctl, 'w'), 10_000, 'perf stat (control fifo)')
    const ackHandle = await withTimeout(open(ack, 'r'), 10_000, 'perf stat (ack fifo)')
    const command = async (cmd: string) => {
      await ctlHandle.write(`${cmd}\n`)
      const buf = Buffer.alloc(16)
      const { bytesRead } = await withTimeout(ackHandle.read(buf, 0, 16, null), 10_000, `perf stat (${cmd})`)
      if (!buf.subarray(0, bytesRead).toString().startsWith('ack')) throw new Error(`perf stat did not acknowledge '${cmd}'`)
    }
    await command('enable')
    return {
      async stop() {
        try {
          await command('disable')
          child.kill('SIGINT')
          await withTimeout(exited, 10_000, 'perf stat (exit)')
          await ctlHandle.close()
          await ackHandle.close()
          const text = existsSync(out) ? readFileSync(out, 'utf8') : ''
          const result = parsePerfStat(text)
          if (Object.keys(result.counters).length === 0 && result.unsupported.length === 0) {
            throw new Error(`perf stat wrote no counts: ${stderr.trim() || text.trim() || '(no output)'}`)
          }
          return result
        } finally {
          child.kill('SIGKILL')
          cleanup()
        }
      },
    }
  } catch (err) {
    child.kill('SIGKILL')
    cleanup()
    throw new Error(`cannot attach perf stat to pid ${pid}: ${(err as Error).message}${stderr ? `; perf said: ${stderr.trim()}` : ''}`, { cause: err })
  }
}

// ---------------------------------------------------------------------------
// callgrind

/**
 * Runs callgrind_control against an instance. valgrind's gdbserver FIFOs
 * live in the instance's TMPDIR (its own /tmp), so the control tool must
 * look there; and it exits 0 even when it found no such task, so its
 * "Error:" output is what tells.
 */
function runCallgrindControl(args: string[], instanceTmpDir: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('callgrind_control', args, { timeout: 30_000, env: { ...process.env, TMPDIR: instanceTmpDir } }, (err, stdout, stderr) => {
      const output = `${stdout}${stderr}`
      if (err || /^Error:/m.test(output)) {
        reject(new Error(`callgrind_control ${args.join(' ')} failed: ${(output || (err as Error).message).trim()}`, { cause: err }))
      } else resolve(stdout)
    })
  })
}

/** Zeroes the instance's callgrind counters (before an invocation). `tmpDir` is the instance's TMPDIR. */
export async function callgrindZero(pid: number, tmpDir: string): Promise<void> {
  await runCallgrindControl(['-z', String(pid)], tmpDir)
}

/** The `summary:` (events since the last zero) of a callgrind dump file. */
export function parseCallgrindSummary(text: string): number | undefined {
  const m = /^summary:\s+(\d+)/m.exec(text) ?? /^totals:\s+(\d+)/m.exec(text)
  return m ? Number(m[1]) : undefined
}

/**
 * Dumps the instance's counters (after an invocation) and returns the
 * instructions executed since the last zero. `outDir` is the instance's
 * TMPDIR, where it writes its profiles.
 */
export async function callgrindDump(pid: number, outDir: string): Promise<number> {
  const before = new Set(await listDumps(outDir, pid))
  await runCallgrindControl(['-d', String(pid)], outDir)
  // callgrind_control returns once the request is delivered; the file appears (and is completed) a moment later.
  const deadline = Date.now() + 10_000
  for (;;) {
    const after = (await listDumps(outDir, pid)).filter((f) => !before.has(f))
    const newest = after.sort((a, b) => dumpIndex(b) - dumpIndex(a))[0]
    if (newest) {
      const instructions = parseCallgrindSummary(await readFile(join(outDir, newest), 'utf8'))
      // The summary line is written last: a dump without it is still being written.
      if (instructions !== undefined && /^totals:/m.test(await readFile(join(outDir, newest), 'utf8'))) return instructions
    }
    if (Date.now() > deadline) {
      throw new Error(`callgrind wrote no complete dump for pid ${pid} in ${outDir} within 10 s${newest ? ` (${newest} is incomplete)` : ''}`)
    }
    await new Promise((r) => setTimeout(r, 20))
  }
}

async function listDumps(dir: string, pid: number): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((f) => f.startsWith(`callgrind.out.${pid}.`))
  } catch {
    return []
  }
}

function dumpIndex(file: string): number {
  return Number(file.slice(file.lastIndexOf('.') + 1)) || 0
}

/** Whether valgrind and callgrind_control are installed (checked once). */
let valgrindPresent: Promise<boolean> | undefined
export function callgrindAvailable(): Promise<boolean> {
  valgrindPresent ??= new Promise((resolve) => {
    execFile('valgrind', ['--version'], { timeout: 10_000 }, (err) => {
      if (err) return resolve(false)
      // callgrind_control exits non-zero for -h on some versions; only a missing binary counts.
      execFile('callgrind_control', ['-h'], { timeout: 10_000 }, (err2) => resolve((err2 as NodeJS.ErrnoException | null)?.code !== 'ENOENT'))
    })
  })
  return valgrindPresent
}
