/**
 * The local provider's light entry for processes that only invoke (bench
 * workers): a function pool for a deployed handle, without loading the
 * provider's packaging, storage or sweeping code (registry.ts).
 */
import type { DeployedFunction, FunctionHandle, ProviderContext } from '../types.ts'
import { LocalFunction } from './local-function.ts'

/** The same as `LocalProvider.connect(handle)`, for a process that holds no provider. */
export function connectLocalFunction(handle: FunctionHandle, ctx: ProviderContext): DeployedFunction {
  // No provider tracks this function: its instances end with close()/delete()
  // or with the process (their stdin lifeline), as a provider's would.
  return new LocalFunction(handle, ctx.logger, () => {})
}
