/**
 * Peak memory of a container, read from its memory cgroup on the host:
 *
 *  - cgroup v1: `memory.max_usage_in_bytes`, reset before each invocation by
 *    writing 0 (root may), so the value read after it is that invocation's
 *    peak (page cache and /tmp included, as a platform counts them);
 *  - cgroup v2: `memory.peak` (Linux 5.19+), reset by a write where the
 *    kernel supports it (6.12+), otherwise the container's lifetime peak.
 *
 * The container's cgroup is found through /proc/<pid>/cgroup of its init
 * process, so it works whatever cgroup driver or parent the engine uses. On
 * an engine whose processes are not visible here (a remote DOCKER_HOST) the
 * counter is simply unavailable.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export interface MemoryPeakCounter {
  /** Where the value comes from, e.g. `cgroup-v1:memory.max_usage_in_bytes`. */
  readonly source: string
  /** Starts a new peak; false when the kernel or permissions do not allow it (the peak is then the lifetime's). */
  reset(): boolean
  /** The peak in bytes since the last reset (or the start), undefined once the cgroup is gone. */
  peakBytes(): number | undefined
}

interface CgroupMounts {
  v1Memory?: string
  v2?: string
}

let mounts: CgroupMounts | undefined

/** Where the memory controller (v1) and the unified hierarchy (v2) are mounted, from /proc/self/mountinfo. */
export function cgroupMounts(mountinfo?: string): CgroupMounts {
  if (mountinfo === undefined && mounts) return mounts
  const found: CgroupMounts = {}
  let text = mountinfo
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/mountinfo', 'utf8')
    } catch {
      text = ''
    }
  }
  for (const line of text.split('\n')) {
    // `id parent major:minor root mountpoint options … - fstype source superoptions`
    const [left, right] = line.split(' - ')
    if (!left || !right) continue
    const mountPoint = left.split(' ')[4]
    const [fstype, , superOptions] = right.split(' ')
    if (!mountPoint) continue
    if (fstype === 'cgroup' && superOptions?.split(',').includes('memory')) found.v1Memory ??= mountPoint
    if (fstype === 'cgroup2') found.v2 ??= mountPoint
  }
  if (mountinfo === undefined) mounts = found
  return found
}

/** The memory-cgroup directory of a process: v1 if the memory controller is there, else v2. */
export function processMemoryCgroup(
  pid: number,
  options: { procCgroup?: string; mounts?: CgroupMounts } = {},
): { version: 1 | 2; dir: string } | undefined {
  let text: string
  try {
    text = options.procCgroup ?? readFileSync(`/proc/${pid}/cgroup`, 'utf8')
  } catch {
    return undefined
  }
  const m = options.mounts ?? cgroupMounts()
  let v2Path: string | undefined
  for (const line of text.split('\n')) {
    const first = line.indexOf(':')
    const second = line.indexOf(':', first + 1)
    if (first < 0 || second < 0) continue
    const controllers = line.slice(first + 1, second)
    const path = line.slice(second + 1)
    if (controllers.split(',').includes('memory') && m.v1Memory) return { version: 1, dir: join(m.v1Memory, path) }
    if (line.startsWith('0::')) v2Path = path
  }
  if (v2Path !== undefined && m.v2) return { version: 2, dir: join(m.v2, v2Path) }
  return undefined
}

function readNumber(path: string): number | undefined {
  try {
    const value = Number(readFileSync(path, 'utf8').trim())
    return Number.isFinite(value) ? value : undefined
  } catch {
    return undefined
  }
}

/** A peak-memory counter for the container whose init process is `pid`, or undefined when none is readable. */
export function containerMemoryCounter(pid: number, options: { procCgroup?: string; mounts?: CgroupMounts } = {}): MemoryPeakCounter | undefined {
  if (!(pid > 0)) return undefined
  const cgroup = processMemoryCgroup(pid, options)
  if (!cgroup) return undefined
  const file = join(cgroup.dir, cgroup.version === 1 ? 'memory.max_usage_in_bytes' : 'memory.peak')
  if (readNumber(file) === undefined) return undefined
  return {
    source: cgroup.version === 1 ? 'cgroup-v1:memory.max_usage_in_bytes' : 'cgroup-v2:memory.peak',
    reset() {
      try {
        writeFileSync(file, '0')
        return true
      } catch {
        return false
      }
    },
    peakBytes() {
      return readNumber(file)
    },
  }
}
