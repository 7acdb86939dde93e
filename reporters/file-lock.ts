/**
 * An exclusive lock file next to a shared file (`results/index.json.lock`),
 * so that processes updating it one after the other never lose each other's
 * changes. Used by the main process (the reporter) of each `sebs bench` run.
 *
 * The lock is a file created with O_EXCL holding `{ pid, host, at }`. A lock
 * whose holder is a dead process on this host, or that is older than
 * `staleMs` (a holder on another host, or a hung one), is taken over.
 */
import { hostname } from 'node:os'
import { open, readFile, rm, stat } from 'node:fs/promises'
import { SebsError } from '../core/errors.ts'

export interface FileLockOptions {
  /** Give up after this long, ms (default 10 s). */
  timeoutMs?: number
  /** A lock older than this is taken over whatever its holder, ms (default 30 s; updates take milliseconds). */
  staleMs?: number
}

interface LockContent {
  pid: number
  host: string
  at: string
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: it exists, owned by someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** True when the lock at `path` may be taken over (its holder is gone or it is older than staleMs). */
async function isStale(path: string, staleMs: number): Promise<boolean> {
  let content: LockContent | undefined
  let ageMs: number
  try {
    ageMs = Date.now() - (await stat(path)).mtimeMs
    content = JSON.parse(await readFile(path, 'utf8')) as LockContent
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false // released meanwhile: just retry
    // Being written by its creator right now (empty / torn JSON) unless it has been so for long.
    return (await stat(path).then((s) => Date.now() - s.mtimeMs, () => 0)) > staleMs
  }
  if (ageMs > staleMs) return true
  return content.host === hostname() && Number.isInteger(content.pid) && !processAlive(content.pid)
}

/**
 * Runs `fn` while holding the lock `lockPath`; waits for other holders up to
 * `timeoutMs`, then throws SebsError RESULTS_LOCKED naming the lock file.
 */
export async function withFileLock<T>(lockPath: string, fn: () => Promise<T>, options: FileLockOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000
  const staleMs = options.staleMs ?? 30_000
  const deadline = Date.now() + timeoutMs
  let backoffMs = 5
  for (;;) {
    try {
      const handle = await open(lockPath, 'wx')
      try {
        await handle.writeFile(JSON.stringify({ pid: process.pid, host: hostname(), at: new Date().toISOString() } satisfies LockContent))
      } finally {
        await handle.close()
      }
      break
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    if (await isStale(lockPath, staleMs)) {
      // Two takers may both see it stale: rm is harmless for the loser, whose next 'wx' fails or wins fairly.
      await rm(lockPath, { force: true })
      continue
    }
    if (Date.now() >= deadline) {
      throw new SebsError(
        'RESULTS_LOCKED',
        `${lockPath} has been held by another process for more than ${timeoutMs / 1000} s; ` +
          `if no other sebs run is writing to this results folder, delete the file and run \`sebs history\` to check the index.`,
      )
    }
    // A bounded wait for the holder (updates take milliseconds), with jitter so waiters do not march in step.
    await new Promise((resolve) => setTimeout(resolve, backoffMs + Math.random() * backoffMs))
    backoffMs = Math.min(backoffMs * 2, 100)
  }
  try {
    return await fn()
  } finally {
    await rm(lockPath, { force: true })
  }
}
