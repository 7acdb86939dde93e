/**
 * Every process a local function instance started, found and ended — also
 * the ones that left its process group (`setsid`, daemons) or were
 * re-parented to init when their parent exited. Runs in whichever process
 * owns instances (the main process, a bench worker) and in `sebs cleanup`.
 *
 * Why an environment tag and not only the process group: a process group
 * is escaped by one `setsid()`, and PR_SET_CHILD_SUBREAPER or a cgroup per
 * instance are not available everywhere (the cgroup only where memory limits
 * get one, limits.ts). Every instance is spawned with `SEBS_RUN_ID` and
 * `SEBS_INSTANCE_ID` in its environment, and whatever it starts inherits
 * them unless it scrubs its environment on purpose: `/proc/<pid>/environ`
 * names the instance and run a process belongs to, even after a crash of
 * the harness. A process is only signalled after its environment shows the
 * tag, so a recycled pid is never touched.
 */
import { readFileSync, readdirSync } from 'node:fs'

/** What a process must carry in its environment to be part of the tree. */
export interface ProcessTag {
  runId: string
  /** One instance; unset: every instance of the run. */
  instanceId?: string
}

/** Environment variable names of the tag (instance.ts sets them). */
export const TAG_ENV = { runId: 'SEBS_RUN_ID', instanceId: 'SEBS_INSTANCE_ID' } as const

/** A live process carrying a tag: its pid and the instance it belongs to. */
export interface TaggedProcess {
  pid: number
  runId: string
  instanceId: string | undefined
}

/** True when this machine exposes other processes' environments (Linux /proc). */
export function canReadEnvironments(): boolean {
  try {
    readFileSync('/proc/self/environ')
    return true
  } catch {
    return false
  }
}

function stateOf(stat: string): string | undefined {
  const close = stat.lastIndexOf(')')
  return close < 0 ? undefined : stat.slice(close + 2, close + 3)
}

/**
 * The live (not zombie) processes whose environment carries the tag; one
 * pass over /proc (about 10 ms for a hundred processes), never this process.
 * With `runIds`, every process of any of those runs.
 */
export function findTaggedProcesses(tags: ProcessTag[]): TaggedProcess[] {
  if (tags.length === 0) return []
  let entries: string[]
  try {
    entries = readdirSync('/proc')
  } catch {
    return []
  }
  const runPrefix = `${TAG_ENV.runId}=`
  const instancePrefix = `${TAG_ENV.instanceId}=`
  const found: TaggedProcess[] = []
  for (const entry of entries) {
    const pid = Number(entry)
    if (!Number.isInteger(pid) || pid <= 1 || pid === process.pid) continue
    let environ: string
    try {
      environ = readFileSync(`/proc/${pid}/environ`, 'latin1')
    } catch {
      continue // gone, or not ours to read
    }
    // Cheap reject before splitting: most processes carry no tag at all.
    if (!environ.includes(runPrefix)) continue
    let runId: string | undefined
    let instanceId: string | undefined
    for (const pair of environ.split('\0')) {
      if (pair.startsWith(runPrefix)) runId = pair.slice(runPrefix.length)
      else if (pair.startsWith(instancePrefix)) instanceId = pair.slice(instancePrefix.length)
    }
    if (runId === undefined) continue
    const matches = tags.some((t) => t.runId === runId && (t.instanceId === undefined || t.instanceId === instanceId))
    if (!matches) continue
    try {
      if (stateOf(readFileSync(`/proc/${pid}/stat`, 'latin1')) === 'Z') continue
    } catch {
      continue
    }
    found.push({ pid, runId, instanceId })
  }
  return found
}

/** SIGKILLs a process group, ignoring one that is already gone. */
export function killProcessGroup(pgid: number | undefined, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (pgid === undefined || pgid <= 1) return
  try {
    process.kill(-pgid, signal)
  } catch {
    // Already gone (ESRCH), or the leader alone is left and handled by the caller.
  }
}

/**
 * SIGKILLs every process carrying one of the tags (found with
 * findTaggedProcesses); returns their pids. Synchronous, so that the
 * process 'exit' handler can use it too.
 */
export function killTaggedProcesses(tags: ProcessTag[]): number[] {
  const killed: number[] = []
  // Twice: a process being forked while the first pass ran is caught by the second.
  for (let pass = 0; pass < 2; pass++) {
    const found = findTaggedProcesses(tags)
    if (found.length === 0) break
    for (const { pid } of found) {
      try {
        process.kill(pid, 'SIGKILL')
        if (!killed.includes(pid)) killed.push(pid)
      } catch {
        // Gone in between.
      }
    }
  }
  return killed
}
