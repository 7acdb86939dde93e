/**
 * Memory limits for local function instances, so that a memory sweep is
 * never only a label. The strongest mechanism the machine permits is used,
 * and every instance says which one it got:
 *
 *  1. `cgroup`: a cgroup v1 memory controller (memory.limit_in_bytes, and
 *     memsw so the limit is not dodged through swap) when this process may
 *     create cgroups (root). The instance joins it before its runtime starts
 *     (`sh -c 'echo $$ > cgroup.procs && exec …'`), so everything it and the
 *     processes it starts allocate is charged; over the limit the kernel's
 *     OOM killer ends it, as a platform ends a sandbox. Cgroups are nested
 *     under this process's own cgroup (never at the root of the hierarchy,
 *     which belongs to whoever runs this machine), one per instance, and
 *     removed when the instance is gone.
 *  2. `rlimit-as` (Python, no cgroup): RLIMIT_AS, the address-space limit
 *     (`ulimit -v`); allocations past it raise MemoryError. Address space is
 *     more than resident memory, so this is stricter than a platform.
 *  3. `node-heap` (Node.js, no cgroup): V8's `--max-old-space-size`; V8 cannot
 *     run under RLIMIT_AS. Buffers and native memory are not bounded, so the
 *     limit is reported as NOT enforced (`enforced: false`).
 *  4. `none`: no memory given, or limits switched off.
 *
 * Detection is by trying: a cgroup that cannot be created, configured or
 * joined falls back to the next mechanism with the reason in `note`.
 */
import { mkdirSync, readFileSync, readdirSync, rmdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Language } from '../../core/types.ts'

export type MemoryLimitMechanism = 'cgroup' | 'rlimit-as' | 'node-heap' | 'none'

/** How an instance's memory is limited. */
export interface MemoryLimit {
  /** Configured memory, MB (undefined: none was given). */
  memoryMb?: number
  mechanism: MemoryLimitMechanism
  /** True when the whole process (tree) cannot use more than `memoryMb`. */
  enforced: boolean
  /** The instance's cgroup directory (mechanism `cgroup`). */
  cgroupDir?: string
  /** Why a stronger mechanism was not used, when one was skipped. */
  note?: string
}

export interface MemoryLimitRequest {
  memoryMb?: number
  language: Language
  /** A name unique on this machine for the instance (run id, function, instance id). */
  instanceName: string
  /** `auto` (default): the strongest mechanism available; `off`: no limit. */
  mode?: 'auto' | 'off'
  /** The memory cgroup v1 mount (tests point it elsewhere); default /sys/fs/cgroup/memory. */
  cgroupMount?: string
}

/** A command to spawn, with the limit applied around it. */
export interface LimitedCommand {
  command: string
  args: string[]
  /** Extra environment for the instance (what the wrapper reports back). */
  env: Record<string, string>
  limit: MemoryLimit
}

export const CGROUP_V1_MEMORY = '/sys/fs/cgroup/memory'
/** Prefix of every cgroup this suite creates (stale ones are found by it). */
export const CGROUP_PREFIX = 'sebs-'

/** This process's own memory cgroup path inside the mount (`/` when at the root), from /proc/self/cgroup. */
export function ownMemoryCgroup(procSelfCgroup = '/proc/self/cgroup'): string | undefined {
  try {
    for (const line of readFileSync(procSelfCgroup, 'utf8').split('\n')) {
      // v1 lines are `id:controllers:path`; the memory controller may share a line with others.
      const [, controllers, path] = line.split(':')
      if (controllers !== undefined && controllers.split(',').includes('memory') && path !== undefined) return path
    }
  } catch {
    // No /proc (not Linux): no cgroups either.
  }
  return undefined
}

function cgroupParent(mount: string): string | undefined {
  const own = ownMemoryCgroup()
  if (own === undefined) return undefined
  return join(mount, own)
}

/** The cgroup directory name for an instance: `sebs-<name>` with unsafe characters replaced. */
export function cgroupName(instanceName: string): string {
  return CGROUP_PREFIX + instanceName.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 200)
}

/** Creates and configures the instance's cgroup; returns its directory or throws with the reason. */
function createCgroup(mount: string, instanceName: string, memoryMb: number): string {
  const parent = cgroupParent(mount)
  if (!parent) throw new Error('this process has no memory cgroup (cgroup v1 memory controller not mounted)')
  statSync(join(parent, 'cgroup.procs'))
  const dir = join(parent, cgroupName(instanceName))
  mkdirSync(dir)
  try {
    const bytes = String(Math.round(memoryMb * 1024 * 1024))
    writeFileSync(join(dir, 'memory.limit_in_bytes'), bytes)
    try {
      // With swap accounting, memory+swap gets the same limit: no escape into swap.
      writeFileSync(join(dir, 'memory.memsw.limit_in_bytes'), bytes)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
    // The OOM killer must act (a paused cgroup would hang the invocation until its timeout).
    try {
      writeFileSync(join(dir, 'memory.oom_control'), '0')
    } catch {
      // Read-only on some kernels; 0 is the default anyway.
    }
    const written = Number(readFileSync(join(dir, 'memory.limit_in_bytes'), 'utf8').trim())
    // The kernel rounds to pages; anything far from the request means the write did not take.
    if (!(Math.abs(written - Number(bytes)) < 1024 * 1024)) throw new Error(`memory.limit_in_bytes reads ${written}, not ${bytes}`)
    return dir
  } catch (err) {
    removeCgroupSync(dir)
    throw err
  }
}

/**
 * Wraps `command args` so that the instance starts under its memory limit.
 * Never throws: a mechanism that cannot be set up falls back to the next.
 */
export function applyMemoryLimit(request: MemoryLimitRequest, command: string, args: string[]): LimitedCommand {
  const { memoryMb, language } = request
  if (request.mode === 'off' || memoryMb === undefined || !(memoryMb > 0)) {
    return { command, args, env: {}, limit: { ...(memoryMb ? { memoryMb } : {}), mechanism: 'none', enforced: false, ...(request.mode === 'off' ? { note: 'memory limits switched off' } : {}) } }
  }
  const envFor = (limit: MemoryLimit): Record<string, string> => ({
    SEBS_MEMORY_LIMIT_MB: String(memoryMb),
    SEBS_MEMORY_LIMIT_MECHANISM: limit.mechanism,
    SEBS_MEMORY_ENFORCED: limit.enforced ? '1' : '0',
  })

  let note: string | undefined
  try {
    sweepStaleCgroupsOnce(request.cgroupMount ?? CGROUP_V1_MEMORY)
    const dir = createCgroup(request.cgroupMount ?? CGROUP_V1_MEMORY, request.instanceName, memoryMb)
    const limit: MemoryLimit = { memoryMb, mechanism: 'cgroup', enforced: true, cgroupDir: dir }
    return {
      // $0 is the cgroup directory; the shell joins it and becomes the runtime (same pid).
      command: '/bin/sh',
      args: ['-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', dir, command, ...args],
      env: envFor(limit),
      limit,
    }
  } catch (err) {
    note = `no cgroup: ${(err as Error).message}`
  }

  if (language === 'python') {
    const limit: MemoryLimit = { memoryMb, mechanism: 'rlimit-as', enforced: true, note }
    const kb = String(Math.round(memoryMb * 1024))
    return {
      command: '/bin/sh',
      args: ['-c', 'ulimit -v "$0" && exec "$@"', kb, command, ...args],
      env: envFor(limit),
      limit,
    }
  }
  // Node.js: the heap limit goes before the script argument.
  const limit: MemoryLimit = { memoryMb, mechanism: 'node-heap', enforced: false, note }
  return { command, args: [`--max-old-space-size=${Math.max(16, Math.floor(memoryMb))}`, ...args], env: envFor(limit), limit }
}

export interface MemoryLimitOutcome {
  /** The kernel's OOM killer ended a process of the cgroup. */
  oomKilled: boolean
  /** How often an allocation hit the limit. */
  failCount?: number
  /** Peak usage of the cgroup, bytes. */
  maxUsageBytes?: number
}

function readNumber(file: string): number | undefined {
  try {
    const v = Number(readFileSync(file, 'utf8').trim())
    return Number.isFinite(v) ? v : undefined
  } catch {
    return undefined
  }
}

/** What happened under the limit so far (cgroup mechanism only; otherwise `oomKilled: false`). */
export function readMemoryLimitOutcome(limit: MemoryLimit): MemoryLimitOutcome {
  if (limit.mechanism !== 'cgroup' || !limit.cgroupDir) return { oomKilled: false }
  let oomKills = 0
  try {
    const m = /^oom_kill (\d+)$/m.exec(readFileSync(join(limit.cgroupDir, 'memory.oom_control'), 'utf8'))
    oomKills = m ? Number(m[1]) : 0
  } catch {
    // The cgroup is gone.
  }
  const failCount = readNumber(join(limit.cgroupDir, 'memory.failcnt'))
  const maxUsageBytes = readNumber(join(limit.cgroupDir, 'memory.max_usage_in_bytes'))
  return {
    oomKilled: oomKills > 0,
    ...(failCount !== undefined ? { failCount } : {}),
    ...(maxUsageBytes !== undefined ? { maxUsageBytes } : {}),
  }
}

/**
 * The sentence added to an instance's stderr tail when it died of its limit,
 * so that the error in the record says why. Undefined when the limit was not hit.
 */
export function memoryLimitMessage(limit: MemoryLimit, outcome: MemoryLimitOutcome): string | undefined {
  if (!outcome.oomKilled) return undefined
  return `memory limit exceeded: the instance needed more than its ${limit.memoryMb} MB and was killed by the OOM killer (cgroup memory limit)`
}

/** Removes a cgroup directory (it must have no processes left); true when it is gone. */
export function removeCgroupSync(dir: string): boolean {
  try {
    rmdirSync(dir)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT'
  }
}

/**
 * Removes the cgroup once its processes have exited. A killed process leaves
 * its cgroup a moment after the signal, so EBUSY is retried for `waitMs`.
 */
export async function releaseMemoryLimit(limit: MemoryLimit, waitMs = 2000): Promise<boolean> {
  if (limit.mechanism !== 'cgroup' || !limit.cgroupDir) return true
  const deadline = Date.now() + waitMs
  for (;;) {
    if (removeCgroupSync(limit.cgroupDir)) return true
    if (Date.now() >= deadline) return false
    await new Promise((r) => setTimeout(r, 20).unref())
  }
}

/** The synchronous variant for process-exit handlers (spins for at most `waitMs`). */
export function releaseMemoryLimitSync(limit: MemoryLimit, waitMs = 1000): boolean {
  if (limit.mechanism !== 'cgroup' || !limit.cgroupDir) return true
  const deadline = Date.now() + waitMs
  const pause = new Int32Array(new SharedArrayBuffer(4))
  for (;;) {
    if (removeCgroupSync(limit.cgroupDir)) return true
    if (Date.now() >= deadline) return false
    Atomics.wait(pause, 0, 0, 10)
  }
}

let sweptStale = false
function sweepStaleCgroupsOnce(mount: string): void {
  if (sweptStale) return
  sweptStale = true
  try {
    sweepStaleCgroups(mount)
  } catch {
    // Best effort: leftovers are empty and harmless.
  }
}

/**
 * Removes empty `sebs-*` cgroups left beside this process's own cgroup by
 * crashed or killed processes. A cgroup with processes, or created in the
 * last `minAgeMs` (another process may be about to move its instance in),
 * is kept. Returns the removed paths.
 */
export function sweepStaleCgroups(mount = CGROUP_V1_MEMORY, minAgeMs = 60_000): string[] {
  const parent = cgroupParent(mount)
  if (!parent) return []
  let entries: string[]
  try {
    entries = readdirSync(parent)
  } catch {
    return []
  }
  const removed: string[] = []
  for (const name of entries) {
    if (!name.startsWith(CGROUP_PREFIX)) continue
    const dir = join(parent, name)
    let procs = ''
    try {
      procs = readFileSync(join(dir, 'cgroup.procs'), 'utf8').trim()
    } catch {
      continue
    }
    let ageMs = 0
    try {
      ageMs = Date.now() - statSync(dir).ctimeMs
    } catch {
      continue
    }
    if (procs === '' && ageMs >= minAgeMs && removeCgroupSync(dir)) removed.push(dir)
  }
  return removed
}
