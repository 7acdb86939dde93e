/**
 * The local provider: functions as local processes behind an HTTP trigger on
 * 127.0.0.1, storage in an embedded s3rver. The default provider.
 */
import type { Provider, ProviderContext } from '../types.ts'
import { LocalProvider } from './local-provider.ts'

export { DEFAULT_LOCAL_BUCKET, LocalProvider, storageEnv, type LocalProviderOptions } from './local-provider.ts'
export { LocalFunction, type LocalHandleData } from './local-function.ts'

/** Creates the local provider. Cheap: nothing starts until storage() or an invocation needs it. */
export function createLocalProvider(ctx: ProviderContext): Provider {
  return new LocalProvider(ctx)
}
