/**
 * Where the local provider keeps its state under the cache directory:
 *
 *   <cacheDir>/local/instances/<runId>/<pid>.json      one file per live instance
 *   <cacheDir>/local/instances/<runId>/tmp/<instance>  each instance's TMPDIR
 *   <cacheDir>/local/instances/<runId>/packages/<fn>-… padded package copies (code-size sweeps)
 *   <cacheDir>/local/s3rver/                           the embedded object store
 *   <cacheDir>/local/dynalite/                         the embedded NoSQL store
 *
 * Everything of one run sits under one directory, so `sweep` can find and
 * remove what a crashed run left behind.
 */
import { join } from 'node:path'

/** Keeps ids usable as one path segment (run ids and function names come from config). */
export function safeSegment(value: string): string {
  const cleaned = value.replace(/[^A-Za-z0-9._-]/g, '_')
  return cleaned === '' || cleaned === '.' || cleaned === '..' ? '_' : cleaned
}

export function instancesRoot(cacheDir: string): string {
  return join(cacheDir, 'local', 'instances')
}

export function runDir(cacheDir: string, runId: string): string {
  return join(instancesRoot(cacheDir), safeSegment(runId))
}

export function pidFilePath(cacheDir: string, runId: string, pid: number): string {
  return join(runDir(cacheDir, runId), `${pid}.json`)
}

export function instanceTmpRoot(cacheDir: string, runId: string): string {
  return join(runDir(cacheDir, runId), 'tmp')
}

/** Where padded copies of packages live while a code-size sweep runs them. */
export function paddedPackagesRoot(cacheDir: string, runId: string): string {
  return join(runDir(cacheDir, runId), 'packages')
}

export function s3rverDir(cacheDir: string): string {
  return join(cacheDir, 'local', 's3rver')
}

export function dynaliteDir(cacheDir: string): string {
  return join(cacheDir, 'local', 'dynalite')
}

/** Contents of a pid file. */
export interface PidFileEntry {
  pid: number
  runId: string
  functionName: string
  instanceId: string
  tmpDir: string
  /** ISO timestamp. */
  startedAt: string
}
