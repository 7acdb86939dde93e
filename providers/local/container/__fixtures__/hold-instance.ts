/**
 * Test helper process (docker-runtime.int.test.ts): connects to a deployed
 * local function from a handle in SEBS_TEST_HANDLE, invokes it once, prints
 * `CONTAINER <id>` and stays alive until killed. The test SIGKILLs it to
 * check that its container stops by itself (the stdin lifeline) and that
 * `sweep` removes what is left.
 */
import { createLogger } from '../../../../core/logger.ts'
import type { FunctionHandle } from '../../../types.ts'
import { LocalProvider } from '../../local-provider.ts'
import type { LocalFunction } from '../../local-function.ts'

const handle = JSON.parse(process.env.SEBS_TEST_HANDLE ?? 'null') as FunctionHandle | null
if (!handle) throw new Error('SEBS_TEST_HANDLE is not set')
const logger = createLogger('sebs', { quiet: true })
const provider = new LocalProvider({ runId: handle.runId, cacheDir: String(handle.data.cacheDir), logger, options: {} })
const fn = provider.connect(handle) as LocalFunction
const result = await fn.invoke({ message: 'from the helper process' })
if (result.state !== 'ok') {
  process.stderr.write(`invocation failed (${result.state}): ${result.error}\n`)
  process.exit(1)
}
const [instance] = fn.instances()
process.stdout.write(`CONTAINER ${instance?.containerId ?? ''}\n`)
// Idle instances do not keep a process alive; this one must stay until it is killed.
setInterval(() => {}, 60_000)
