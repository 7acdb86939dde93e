/**
 * Public API of serverless-benchmarks: the Vitest plugin, the config helper,
 * and the types benchmark authors and provider authors need.
 */
export { sebs } from './vite-plugin.ts'
export { defineConfig, type SebsConfig, type SebsUserConfig } from '../engine/settings.ts'
export type { BenchmarkInputModule, GenerateInputContext, ValidateOutputContext } from '../core/benchmark-input.ts'
export type { InvocationRecord, WrapperEnvelope, Language, Size, ProviderName } from '../core/types.ts'
export type { Provider, DeployedFunction, FunctionHandle, ObjectStorage } from '../providers/types.ts'
export { SebsError } from '../core/errors.ts'
