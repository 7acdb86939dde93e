/**
 * Finds and removes what local runs left behind: instance processes recorded
 * in pid files (a crashed harness cannot stop them) and their temp dirs.
 *
 * A pid is only killed after `/proc/<pid>/environ` shows it carries
 * `SEBS_RUN_ID=<runId>` of its pid file: a pid recycled by an unrelated
 * process is never touched. Processes a function started (children,
 * daemons) have no pid file but carry the same tag: they are found by it
 * (process-tree.ts).
 */
import { existsSync, readFileSync } from 'node:fs'
import { readFile, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { errorMessage } from '../../core/errors.ts'
import type { Logger } from '../../core/logger.ts'
import type { SweptResource } from '../types.ts'
import { instanceTmpRoot, instancesRoot, paddedPackagesRoot, runDir, type PidFileEntry } from './paths.ts'
import { findTaggedProcesses, killTaggedProcesses } from './process-tree.ts'

export interface SweepOptions {
  runId?: string
  dryRun: boolean
}

/** True when `pid` is a live (not zombie) process whose environment carries this run id. */
export async function isInstanceOfRun(pid: number, runId: string): Promise<boolean> {
  if (!Number.isInteger(pid) || pid <= 1) return false
  let environ: Buffer
  let stat: string
  try {
    ;[environ, stat] = await Promise.all([readFile(`/proc/${pid}/environ`), readFile(`/proc/${pid}/stat`, 'utf8')])
  } catch {
    return false
  }
  if (processState(stat) === 'Z') return false
  return environ.toString('utf8').split('\0').includes(`SEBS_RUN_ID=${runId}`)
}

/** The state letter of /proc/<pid>/stat (after the parenthesised command, which may hold spaces). */
function processState(stat: string): string | undefined {
  const close = stat.lastIndexOf(')')
  return close < 0 ? undefined : stat.slice(close + 2, close + 3)
}

/** The process group of /proc/<pid>/stat (field 5). */
function processGroup(stat: string): number | undefined {
  const close = stat.lastIndexOf(')')
  if (close < 0) return undefined
  const fields = stat.slice(close + 2).split(' ')
  const pgrp = Number(fields[2])
  return Number.isInteger(pgrp) ? pgrp : undefined
}

async function isGone(pid: number): Promise<boolean> {
  try {
    return processState(await readFile(`/proc/${pid}/stat`, 'utf8')) === 'Z'
  } catch {
    return true
  }
}

async function killInstance(pid: number, timeoutMs: number): Promise<boolean> {
  let group: number | undefined
  try {
    group = processGroup(await readFile(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return true
  }
  try {
    // Instances lead their own process group (detached spawn): kill it whole,
    // so processes the function started go too.
    process.kill(group === pid ? -pid : pid, 'SIGKILL')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return true
    throw err
  }
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await isGone(pid)) return true
    // Polling /proc is the only way to see a process that is not our child end.
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  return isGone(pid)
}

function describeOrphan(pid: number, instanceId: string | undefined): string {
  let command = ''
  try {
    command = readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').filter(Boolean).join(' ').slice(0, 60)
  } catch {
    // Gone already: the pid says enough.
  }
  return `pid ${pid}${command ? ` '${command}'` : ''} (started by instance ${instanceId ?? '?'})`
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
}

/**
 * Kills the running instances of one function of one run, whichever process
 * started them, and removes their pid files and temp dirs. Returns how many
 * were killed.
 */
export async function killFunctionInstances(cacheDir: string, runId: string, functionName: string): Promise<number> {
  const dir = runDir(cacheDir, runId)
  let killed = 0
  for (const file of (await listDir(dir)).filter((f) => f.endsWith('.json'))) {
    const path = join(dir, file)
    let entry: PidFileEntry
    try {
      entry = JSON.parse(await readFile(path, 'utf8')) as PidFileEntry
    } catch {
      continue // being written, or garbage for sweep to remove
    }
    if (entry.runId !== runId || entry.functionName !== functionName) continue
    if ((await isInstanceOfRun(entry.pid, runId)) && (await killInstance(entry.pid, 5000))) killed++
    if (entry.instanceId) killTaggedProcesses([{ runId, instanceId: entry.instanceId }])
    if (await isGone(entry.pid)) {
      await rm(path, { force: true })
      if (entry.tmpDir) await rm(entry.tmpDir, { recursive: true, force: true })
    }
  }
  return killed
}

export async function sweepInstances(cacheDir: string, options: SweepOptions, logger: Logger): Promise<SweptResource[]> {
  const swept: SweptResource[] = []
  const root = instancesRoot(cacheDir)
  const dirs = options.runId !== undefined ? [runDir(cacheDir, options.runId)] : (await listDir(root)).map((d) => join(root, d))
  const canVerify = existsSync('/proc/self/environ')
  if (!canVerify) {
    logger.warn('cannot verify local instance processes without /proc; leftover processes are reported but not killed')
  }

  for (const dir of dirs) {
    let liveLeft = false
    const recorded = new Set<number>()
    for (const file of (await listDir(dir)).filter((f) => f.endsWith('.json'))) {
      const path = join(dir, file)
      let entry: PidFileEntry
      try {
        entry = JSON.parse(await readFile(path, 'utf8')) as PidFileEntry
      } catch (err) {
        logger.debug(`unreadable pid file ${path} (${errorMessage(err)}); removing it`)
        if (!options.dryRun) await rm(path, { force: true })
        continue
      }
      if (options.runId !== undefined && entry.runId !== options.runId) continue
      recorded.add(entry.pid)
      const id = `pid ${entry.pid} (${entry.functionName})`
      const alive = canVerify ? await isInstanceOfRun(entry.pid, entry.runId) : false
      if (!alive) {
        // Exited, or the pid now belongs to someone else: only the record goes.
        if (canVerify && !options.dryRun) await rm(path, { force: true })
        if (!canVerify) {
          liveLeft = true
          swept.push({ kind: 'process', id, runId: entry.runId, removed: false })
        }
        continue
      }
      if (options.dryRun) {
        liveLeft = true
        swept.push({ kind: 'process', id, runId: entry.runId, removed: false })
        continue
      }
      const removed = await killInstance(entry.pid, 5000)
      if (removed) await rm(path, { force: true })
      else {
        liveLeft = true
        logger.warn(`local instance ${id} of run ${entry.runId} did not exit after SIGKILL`)
      }
      swept.push({ kind: 'process', id, runId: entry.runId, removed })
    }

    const runIdOfDir = options.runId ?? dir.slice(root.length + 1)
    if (canVerify) {
      // What the run's functions started and left (daemons, orphans): no pid file, but the run's tag.
      const orphans = findTaggedProcesses([{ runId: runIdOfDir }]).filter((p) => !recorded.has(p.pid))
      if (options.dryRun) {
        if (orphans.length > 0) liveLeft = true
        for (const { pid, instanceId } of orphans) {
          swept.push({ kind: 'process', id: describeOrphan(pid, instanceId), runId: runIdOfDir, removed: false })
        }
      } else if (orphans.length > 0) {
        const killed = new Set(killTaggedProcesses([{ runId: runIdOfDir }]))
        for (const { pid, instanceId } of orphans) {
          const removed = killed.has(pid) || (await isGone(pid))
          if (!removed) liveLeft = true
          swept.push({ kind: 'process', id: describeOrphan(pid, instanceId), runId: runIdOfDir, removed })
        }
      }
    }
    const tmpRoot = instanceTmpRoot(cacheDir, runIdOfDir)
    for (const name of await listDir(tmpRoot)) {
      const removable = !options.dryRun && !liveLeft
      if (removable) await rm(join(tmpRoot, name), { recursive: true, force: true })
      swept.push({ kind: 'temp-dir', id: join(tmpRoot, name), runId: runIdOfDir, removed: removable })
    }
    const packagesRoot = paddedPackagesRoot(cacheDir, runIdOfDir)
    for (const name of await listDir(packagesRoot)) {
      const removable = !options.dryRun && !liveLeft
      swept.push({ kind: 'padded-package', id: join(packagesRoot, name), runId: runIdOfDir, removed: removable })
    }
    if (!options.dryRun && !liveLeft) await rm(dir, { recursive: true, force: true })
  }
  return swept
}
