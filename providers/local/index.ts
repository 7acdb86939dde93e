/**
 * The local provider's descriptor (main process and bench workers):
 * functions as local processes (or Docker containers) behind an HTTP trigger
 * on 127.0.0.1, storage in an embedded s3rver. The default provider.
 *
 * This module stays light: bench workers load it to connect, and every
 * module a worker loads is start-up time (a worker loads each through Vite's
 * transform pipeline; the whole provider cost a cached run ~0.45 s before its
 * first invocation). The provider itself is imported on `create`.
 */
import { DEFAULT_LOCAL_COST_MODEL } from '../../analysis/cost.ts'
import { noSqlFunctionEnv, s3FunctionEnv } from '../storage/function-env.ts'
import { defineProvider } from '../types.ts'

export type { LocalProviderOptions } from './local-provider.ts'
export type { LocalHandleData } from './local-function.ts'

/** The local provider as the registry sees it. */
export const localProvider = defineProvider({
  name: 'local',
  create: async (ctx) => (await import('./local-provider.ts')).createLocalProvider(ctx),
  connect: async (handle, ctx) => (await import('./connect.ts')).connectLocalFunction(handle, ctx),
  // The embedded s3rver (or a configured endpoint) with the keys in the connection.
  connectStorage: async (connection) => (await import('../storage/s3-storage.ts')).createS3Storage(connection),
  functionEnv: (storage, nosql) => ({ ...s3FunctionEnv(storage), ...noSqlFunctionEnv(nosql) }),
  // Local runs have no bill; costs are estimated as if on Lambda x86_64.
  defaultCostModel: () => DEFAULT_LOCAL_COST_MODEL,
  options: (section, shared) => ({ runtimes: shared.runtimes, runtime: shared.runtime, ...section }),
  // Instances run the real interpreter behind the configured command; asking Python takes ~0.3 s.
  prepare: (shared, languages) => void import('./interpreters.ts').then(({ prepareInterpreters }) => prepareInterpreters(shared.runtimes, languages)).catch(() => {}),
  functionsOnThisMachine: true,
  remoteCredentials: false,
})
