/**
 * Temporary build folders a killed build left behind (`sebs cleanup`, main
 * process). Builds write `<hash>.tmp-<pid>-<random>` (and
 * `.python.tmp-<pid>-…` for input-generator dependencies, `python-env/<key>.tmp-<pid>-…`
 * for input.py's managed environment) and rename it into
 * place when done; a `kill -9` in between leaves the folder. One whose pid is
 * no longer running is reported and, unless dry-run, removed; one whose
 * builder still runs is left alone.
 */
import { readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { SweptResource } from '../types.ts'

const TEMP_NAME = /\.tmp-(\d+)-[0-9a-f]+(\.zip)?$/
/** The cache folders builds write to. */
const BUILD_ROOTS = ['packages', 'benchmarks-data', 'python-env']
const MAX_DEPTH = 5

function running(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

async function walk(dir: string, depth: number, found: string[]): Promise<void> {
  let entries
  try {
    entries = await readdir(dir, { withFileTypes: true })
  } catch {
    return
  }
  for (const entry of entries) {
    const path = join(dir, entry.name)
    if (TEMP_NAME.test(entry.name)) found.push(path)
    else if (entry.isDirectory() && depth < MAX_DEPTH) await walk(path, depth + 1, found)
  }
}

/** Finds (and unless `dryRun` removes) the temporary build folders of builds that are no longer running. */
export async function sweepLeftoverBuilds(cacheDir: string, options: { dryRun: boolean }): Promise<SweptResource[]> {
  const found: string[] = []
  for (const root of BUILD_ROOTS) await walk(join(cacheDir, root), 1, found)
  const swept: SweptResource[] = []
  for (const path of found) {
    const pid = Number(TEMP_NAME.exec(path)![1])
    if (running(pid)) continue
    if (!options.dryRun) await rm(path, { recursive: true, force: true })
    swept.push({ kind: 'build-temp', id: path, removed: !options.dryRun })
  }
  return swept
}
