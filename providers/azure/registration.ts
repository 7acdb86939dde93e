/**
 * Resource provider registration (main process, before the first resource is
 * created). A fresh subscription has Microsoft.Web, Microsoft.Storage,
 * Microsoft.Insights, … unregistered and answers the first PUT of such a
 * resource with `MissingSubscriptionRegistration`; the portal and the az CLI
 * register them implicitly, raw ARM calls do not. This registers what a run
 * needs and waits (with progress, within a deadline) until each namespace
 * reports `Registered`.
 */
import { delay } from '../../core/delay.ts'
import { ProviderError, errorMessage } from '../../core/errors.ts'
import type { Logger } from '../../core/logger.ts'
import type { AzureClients } from './clients.ts'

/** Namespaces every deploy needs (function apps and their storage accounts). */
export const BASE_NAMESPACES = ['Microsoft.Web', 'Microsoft.Storage'] as const
/** Workspace-based Application Insights: the component and its Log Analytics workspace. */
export const MONITORING_NAMESPACES = ['Microsoft.Insights', 'Microsoft.OperationalInsights'] as const
/** Cosmos DB, for benchmarks with the nosql module. */
export const NOSQL_NAMESPACES = ['Microsoft.DocumentDB'] as const

export interface RegistrationOptions {
  timeoutMs: number
  pollMs: number
  logger: Logger
}


/**
 * Registers every namespace that is not `Registered` yet and waits until all
 * are. Namespaces already registered cost one GET each. Throws
 * PROVIDER_REGISTRATION naming the namespace and the fix when registration is
 * refused (no permission) or does not finish in time.
 */
export async function ensureResourceProviders(c: AzureClients, namespaces: readonly string[], opts: RegistrationOptions): Promise<void> {
  const pending: string[] = []
  for (const ns of namespaces) {
    let state: string | undefined
    try {
      state = (await c.resources.providers.get(ns)).registrationState
    } catch (err) {
      throw registrationError(ns, `reading its registration state failed: ${errorMessage(err)}`, err)
    }
    if (state === 'Registered') continue
    if (state !== 'Registering') {
      opts.logger.info(`registering the resource provider ${ns} in subscription ${c.subscriptionId} (a fresh subscription has it unregistered; this happens once)`)
      try {
        await c.resources.providers.register(ns)
      } catch (err) {
        throw registrationError(ns, `the register call was refused: ${errorMessage(err)}`, err)
      }
    }
    pending.push(ns)
  }
  if (pending.length === 0) return
  const started = Date.now()
  const deadline = started + opts.timeoutMs
  let lastReport = started
  while (pending.length > 0) {
    for (const ns of [...pending]) {
      let state: string | undefined
      try {
        state = (await c.resources.providers.get(ns)).registrationState
      } catch (err) {
        throw registrationError(ns, `reading its registration state failed: ${errorMessage(err)}`, err)
      }
      if (state === 'Registered') {
        pending.splice(pending.indexOf(ns), 1)
        opts.logger.info(`resource provider ${ns} registered after ${Math.round((Date.now() - started) / 1000)} s`)
      }
    }
    if (pending.length === 0) return
    if (Date.now() + opts.pollMs > deadline) {
      throw registrationError(
        pending.join(', '),
        `still not Registered after ${Math.round(opts.timeoutMs / 1000)} s. Registration usually takes one to a few minutes; run again later, or check 'az provider show -n ${pending[0]}'`,
      )
    }
    if (Date.now() - lastReport >= 15_000) {
      lastReport = Date.now()
      opts.logger.info(`waiting for ${pending.join(', ')} to finish registering (${Math.round((Date.now() - started) / 1000)} s so far)`)
    }
    await delay(opts.pollMs)
  }
}

function registrationError(ns: string, why: string, cause?: unknown): ProviderError {
  return new ProviderError(
    'azure',
    'DEPLOY_FAILED',
    `Resource provider ${ns}: ${why}. A fresh subscription must register it once: 'az provider register --namespace ${ns.split(',')[0]}' ` +
      "(needs the */register/action permission, which Contributor has), then run again.",
    cause === undefined ? undefined : { cause },
  )
}
