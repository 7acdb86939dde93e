/**
 * The shared provider conformance suite against the Azure provider, with the
 * control plane faked at the HTTP level (testing/fake-azure.ts), packages and
 * benchmark data in a real Azurite, and every function invocation running the
 * packaged wrapper for real in a language-worker process of the fake host.
 *
 * nodejs runs the object-storage round trip (902.storage-echo, with the
 * packaged @azure/storage-blob against Azurite); python does not: its
 * storage module needs azure-storage-blob, which the local pip index lacks
 * (wrappers.int.test.ts covers the python module against a stand-in SDK).
 */
import { afterAll } from 'vitest'
import { defineProviderConformance } from '../../test/support/conformance/conformance.ts'
import type { ConformanceTarget } from '../../test/support/conformance/conformance.ts'
import type { AzureFunctionData } from './function-app.ts'
import { startTestbed, type Testbed } from '../../test/support/azure/testbed.ts'

let bed: Promise<Testbed> | undefined
const shared = () => (bed ??= startTestbed())

afterAll(async () => {
  await (await bed)?.close()
}, 60_000)

async function target(): Promise<ConformanceTarget> {
  const tb = await shared()
  return {
    provider: tb.provider,
    buildContext: tb.buildContext,
    runId: tb.runId,
    async watchInstances(fn) {
      const app = (fn.handle.data as unknown as AzureFunctionData).appName
      return async () => tb.fake.liveWorkers(app)
    },
    // The shared test bed is closed once, after both suites.
    async teardown() {},
  }
}

defineProviderConformance('azure (nodejs)', target, { languages: ['nodejs'], nosql: true })
defineProviderConformance('azure (python)', target, { languages: ['python'], storage: false })
