/**
 * Starts a local function instance in the runtime its handle names (main
 * process and bench workers): a child process (instance.ts) or a Docker
 * container (container/docker-instance.ts). The one place that knows both
 * runtime classes; the pool (local-function.ts) gets a FunctionInstance.
 */
import type { DockerRuntimeData } from './container/docker-instance.ts'
import type { FunctionInstance, InstanceStartOptions } from './function-instance.ts'
// The process runtime is loaded with the pool: a dynamic import would add its first load to the first cold start's client time.
import { LocalInstance, type Runtimes } from './instance.ts'

/** Which runtime runs the instance, with what that runtime needs. */
export type InstanceRuntime =
  | { runtime: 'process'; runtimes: Runtimes; cacheDir: string }
  | { runtime: 'docker'; docker: DockerRuntimeData }

/** Starts an instance and resolves once it is ready; rejects with the runtime's ProviderError. */
export function startInstance(options: InstanceStartOptions & { memoryMb: number }, runtime: InstanceRuntime): Promise<FunctionInstance> {
  if (runtime.runtime === 'docker') {
    // The Docker runtime (and dockerode) is loaded on use: bench workers load this module to invoke, and every module costs them start-up time.
    return import('./container/docker-instance.ts').then(({ DockerInstance }) => DockerInstance.start({ ...options, docker: runtime.docker }))
  }
  return LocalInstance.start({ ...options, runtimes: runtime.runtimes, cacheDir: runtime.cacheDir })
}
