/**
 * For tests that spawn the built `sebs` bin (runs in a Vitest worker): makes
 * sure dist/ is built from the current sources. `tsc --build` is incremental,
 * so an up-to-date dist costs a few seconds; a lock directory keeps test
 * files that run in parallel from building at the same time.
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, rmdirSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

const ROOT = resolve(import.meta.dirname, '..', '..')
const LOCK = join(ROOT, '.sebs-cache', 'dist-build.lock')
const LOCK_TIMEOUT_MS = 5 * 60_000

/** Builds dist/ (incrementally) unless another test file is doing it; then waits for that build. */
export async function ensureFreshDist(): Promise<void> {
  mkdirSync(join(ROOT, '.sebs-cache'), { recursive: true })
  const deadline = Date.now() + LOCK_TIMEOUT_MS
  for (;;) {
    try {
      mkdirSync(LOCK)
      break
    } catch {
      // A lock older than the timeout is a leftover of a killed run.
      try {
        if (Date.now() - statSync(LOCK).mtimeMs > LOCK_TIMEOUT_MS) rmdirSync(LOCK)
      } catch {
        // gone meanwhile
      }
      if (Date.now() > deadline) throw new Error(`waited ${LOCK_TIMEOUT_MS / 1000} s for ${LOCK}; remove it if no build is running`)
      await sleep(250)
    }
  }
  try {
    const res = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs'), '--quiet'], { cwd: ROOT, encoding: 'utf8', timeout: LOCK_TIMEOUT_MS })
    if (res.status !== 0) throw new Error(`npm run build failed:\n${res.stdout}${res.stderr}`)
  } finally {
    rmdirSync(LOCK)
  }
}
