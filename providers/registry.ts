/**
 * The one place that maps provider names to their descriptors (main process
 * and bench workers). Each descriptor is imported lazily, so a local run never
 * loads the AWS or Azure SDKs, and the rest of the code never imports a
 * provider folder directly: it asks the descriptor.
 *
 * Adding a provider: its folder with an `index.ts` exporting one
 * `defineProvider({...})`, its name in `core/types.ts` PROVIDERS, one line in
 * DESCRIPTORS below, and the conformance suite (test/support/conformance).
 */
import { ConfigError, ProviderError, errorMessage, listChoices } from '../core/errors.ts'
import { PROVIDERS, type ProviderName } from '../core/types.ts'
import type {
  DeployedFunction,
  FunctionHandle,
  NoSqlConnection,
  ObjectStorage,
  Provider,
  ProviderContext,
  ProviderDescriptor,
  StorageConnection,
} from './types.ts'

/** Every provider name the registry knows. */
export const PROVIDER_NAMES: readonly ProviderName[] = PROVIDERS

const DESCRIPTORS: Record<ProviderName, () => Promise<ProviderDescriptor>> = {
  local: async () => (await import('./local/index.ts')).localProvider,
  aws: async () => (await import('./aws/index.ts')).awsProvider,
  azure: async () => (await import('./azure/index.ts')).azureProvider,
}

/** True when `name` is a provider this build knows (it may still fail to load). */
export function isProviderName(name: string): name is ProviderName {
  return (PROVIDER_NAMES as readonly string[]).includes(name)
}

/**
 * The descriptor of a provider. Unknown names are a ConfigError listing the
 * choices; a provider whose module fails to load (a missing SDK, say) is a
 * ProviderError naming it.
 */
export async function loadProvider(name: string): Promise<ProviderDescriptor> {
  if (!isProviderName(name)) {
    throw new ConfigError('UNKNOWN_PROVIDER', `unknown provider '${name}'; choose one of ${listChoices(PROVIDER_NAMES)}`)
  }
  let descriptor: ProviderDescriptor
  try {
    descriptor = await DESCRIPTORS[name]()
  } catch (err) {
    throw new ProviderError(name, 'NOT_SUPPORTED', `loading the ${name} provider (providers/${name}/index.ts) failed: ${errorMessage(err)}`, { cause: err })
  }
  if (descriptor?.name !== name) {
    throw new ProviderError(name, 'NOT_SUPPORTED', `providers/${name}/index.ts does not export the ${name} provider's defineProvider({ name: '${name}', … }) descriptor`)
  }
  return descriptor
}

/** Creates a provider by name (main process). */
export async function createProvider(name: string, ctx: ProviderContext): Promise<Provider> {
  return (await loadProvider(name)).create(ctx)
}

/**
 * A live function for a handle from another process (a bench worker's view
 * of what the global setup deployed). Uses the provider's light connector
 * where it has one, else the whole provider's `connect`.
 */
export async function connectFunction(name: string, ctx: ProviderContext, handle: FunctionHandle): Promise<DeployedFunction> {
  const descriptor = await loadProvider(name)
  if (descriptor.connect) return descriptor.connect(handle, ctx)
  return (await descriptor.create(ctx)).connect(handle)
}

/** A harness-side storage client for a connection the provider's `storage()` returned (bench workers). */
export async function connectStorage(name: string, connection: StorageConnection): Promise<ObjectStorage> {
  return (await loadProvider(name)).connectStorage(connection)
}

/** Environment function instances need to reach the run's storage and NoSQL store. */
export async function functionEnv(name: string, storage: StorageConnection | undefined, nosql: NoSqlConnection | undefined): Promise<Record<string, string>> {
  return (await loadProvider(name)).functionEnv(storage, nosql)
}
