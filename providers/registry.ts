/**
 * The one place that maps provider names to implementations. Each provider is
 * imported lazily, so a local run never loads the AWS or Azure SDKs, and the
 * rest of the code never imports a provider folder directly.
 */
import { ConfigError, ProviderError, errorMessage, listChoices } from '../core/errors.ts'
import { PROVIDERS, type ProviderName } from '../core/types.ts'
import { builtSpecifier } from '../core/module-path.ts'
import type { DeployedFunction, FunctionHandle, Provider, ProviderContext } from './types.ts'

/** Every provider name the registry knows. */
export const PROVIDER_NAMES: readonly ProviderName[] = PROVIDERS

type Factory = (ctx: ProviderContext) => Provider | Promise<Provider>

/** The module specifiers below name the sources ('./aws/index.ts'); the built package has '.js'. */
const fromHere = (specifier: string): string => builtSpecifier(specifier, import.meta.url)

/**
 * Module path and factory export of each provider. The specifiers are plain
 * strings (not literal `import('./aws/index.ts')` calls) so that the project
 * type-checks and runs while a provider folder is still missing; that case
 * gets a clear error at run time instead.
 */
const PROVIDER_MODULES: Record<ProviderName, { module: string; factory: string; connector?: { module: string; export: string } }> = {
  // Bench workers only invoke: the local connector loads the function pool
  // without the provider's packaging, storage and sweeping (a worker loads
  // each module through Vite's transform pipeline; the whole provider cost a
  // cached run ~0.45 s before its first invocation).
  local: { module: './local/index.ts', factory: 'createLocalProvider', connector: { module: './local/connect.ts', export: 'connectLocalFunction' } },
  aws: { module: './aws/index.ts', factory: 'createAwsProvider' },
  azure: { module: './azure/index.ts', factory: 'createAzureProvider' },
}

function isModuleMissing(err: unknown, specifier: string): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return true
  // Vite's module runner reports a missing file with a message, not a code.
  const message = errorMessage(err)
  const file = specifier.replace(/^\.\//, '')
  return /Failed to load url|Cannot find module|does not exist/i.test(message) && message.includes(file)
}

/** True when `name` is a provider this build knows (it may still fail to load). */
export function isProviderName(name: string): name is ProviderName {
  return (PROVIDER_NAMES as readonly string[]).includes(name)
}

/**
 * Creates a provider by name. Unknown names are a ConfigError listing the
 * choices; a provider whose module cannot be loaded is a ProviderError that
 * says which file is missing.
 */
export async function createProvider(name: string, ctx: ProviderContext): Promise<Provider> {
  if (!isProviderName(name)) {
    throw new ConfigError('UNKNOWN_PROVIDER', `unknown provider '${name}'; choose one of ${listChoices(PROVIDER_NAMES)}`)
  }
  const { module, factory } = PROVIDER_MODULES[name]
  let loaded: Record<string, unknown>
  try {
    loaded = (await import(/* @vite-ignore */ fromHere(module))) as Record<string, unknown>
  } catch (err) {
    if (isModuleMissing(err, module)) {
      throw new ProviderError(
        name,
        'NOT_SUPPORTED',
        `the ${name} provider is not available: providers/${module.replace(/^\.\//, '')} cannot be found. ` +
          `Use another provider (${listChoices(PROVIDER_NAMES.filter((p) => p !== name))}) or reinstall the package.`,
        { cause: err },
      )
    }
    throw new ProviderError(name, 'NOT_SUPPORTED', `loading the ${name} provider failed: ${errorMessage(err)}`, { cause: err })
  }
  const create = loaded[factory]
  if (typeof create !== 'function') {
    throw new ProviderError(
      name,
      'NOT_SUPPORTED',
      `providers/${module.replace(/^\.\//, '')} does not export ${factory}(ctx); it cannot be used as the ${name} provider`,
    )
  }
  return (create as Factory)(ctx)
}

/**
 * A live function for a handle from another process (a bench worker's view
 * of what the global setup deployed). Uses the provider's light connector
 * where it has one, else the whole provider's `connect`.
 */
export async function connectFunction(name: string, ctx: ProviderContext, handle: FunctionHandle): Promise<DeployedFunction> {
  const connector = isProviderName(name) ? PROVIDER_MODULES[name].connector : undefined
  if (!connector) return (await createProvider(name, ctx)).connect(handle)
  const loaded = (await import(/* @vite-ignore */ fromHere(connector.module))) as Record<string, unknown>
  const connect = loaded[connector.export]
  if (typeof connect !== 'function') {
    throw new ProviderError(name, 'NOT_SUPPORTED', `providers/${connector.module.replace(/^\.\//, '')} does not export ${connector.export}(handle, ctx)`)
  }
  return (connect as (handle: FunctionHandle, ctx: ProviderContext) => DeployedFunction)(handle, ctx)
}
