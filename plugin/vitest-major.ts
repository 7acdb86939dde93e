/**
 * Which Vitest major the user's project runs (main process: the Vite plugin
 * reads it to generate suites for that major's bench API).
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import type { VitestMajor } from './bench-adapter.ts'

/**
 * The major of the `vitest` package that `root` resolves (the user's own,
 * the plugin's peer), else the one next to this plugin. Unknown majors are
 * reported as they are; the adapter refuses what it does not support.
 */
export function detectVitestMajor(root: string = process.cwd()): VitestMajor {
  let version: string | undefined
  for (const from of [join(root, 'package.json'), import.meta.url]) {
    try {
      const pkg = createRequire(from).resolve('vitest/package.json')
      version = (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version
      break
    } catch {
      // Not resolvable from there: try the next place.
    }
  }
  const major = Number(version?.split('.')[0] ?? 4)
  return (Number.isInteger(major) ? major : 4) as VitestMajor
}
