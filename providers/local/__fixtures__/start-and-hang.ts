/**
 * Test helper for the stdin-lifeline test: a stand-in harness process that
 * starts one local instance, prints its pid, and then waits to be killed.
 * Usage: node --import tsx start-and-hang.ts <stateDir> <runId> [hang|exit] [event JSON] [python|nodejs]
 * With `exit` it calls process.exit(0) right after printing the pid instead,
 * leaving the instance to the provider's 'exit' handler.
 */
import { join, resolve, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createLogger } from '../../../core/logger.ts'
import { loadFixtureBenchmark } from '../../../test/support/conformance/fixtures.ts'
import { createLocalProvider } from '../local-provider.ts'
import type { LocalFunction } from '../local-function.ts'

const [stateDir, runId, mode = 'hang', eventJson, language = 'nodejs'] = process.argv.slice(2)
if (!stateDir || !runId) throw new Error('usage: start-and-hang.ts <stateDir> <runId>')
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
const logger = createLogger('sebs', { quiet: true })
const provider = createLocalProvider({ runId, cacheDir: stateDir, logger, options: {} })
const benchmark = await loadFixtureBenchmark('901.echo')
const pkg = await provider.package(
  { benchmark, language: language as 'python' | 'nodejs', arch: process.arch === 'arm64' ? 'arm64' : 'x64' },
  { cacheDir: join(root, '.sebs-cache', 'test'), logger, runtimes: { python: 'python3', node: process.execPath } },
)
const fn = (await provider.deploy(pkg, { runId, memory: 128, timeout: 5, trigger: 'http', env: {} })) as LocalFunction
const result = await fn.invoke(eventJson ? (JSON.parse(eventJson) as Record<string, unknown>) : { message: 'hang' })
if (result.state !== 'ok') throw new Error(`invoke failed: ${result.state}`)
process.stdout.write(`INSTANCE_PID ${fn.instances()[0]!.pid}\n`, () => {
  if (mode === 'exit') process.exit(0)
})
// Keep this process alive until the test kills it.
if (mode !== 'exit') setInterval(() => {}, 60_000)
