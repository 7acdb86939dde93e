/**
 * The build context the local provider's integration tests package with (test
 * process): the repository's test cache, which every such test shares so a
 * package is built once, and the usual interpreters.
 */
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Logger } from '../../core/logger.ts'
import type { BuildContext } from '../../providers/types.ts'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')

/** Packages into `<repo>/.sebs-cache/test` with python3 and this Node. */
export function testBuildContext(logger: Logger): BuildContext {
  return { cacheDir: join(ROOT, '.sebs-cache', 'test'), logger, runtimes: { python: 'python3', node: process.execPath } }
}
