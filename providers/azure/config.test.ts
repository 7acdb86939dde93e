import { describe, expect, it } from 'vitest'
import { linuxFxVersion, resolveAzureOptions, workerRuntime } from './config.ts'

const SUB = '11111111-2222-4333-8444-555555555555'

describe('azure config', () => {
  it('fills in defaults and takes the subscription from AZURE_SUBSCRIPTION_ID', () => {
    const o = resolveAzureOptions({}, { AZURE_SUBSCRIPTION_ID: SUB })
    expect(o).toMatchObject({
      region: 'westeurope',
      subscriptionId: SUB,
      resourceGroupPrefix: 'sebs',
      runtime: { python: '3.11', nodejs: '20' },
      appInsights: false,
      endpoints: { management: 'https://management.azure.com', appInsights: 'https://api.applicationinsights.io' },
      keep: false,
      deployTimeoutMs: 600_000,
      coldStartTimeoutMs: 300_000,
      metricsTimeoutMs: 300_000,
      credentialTimeoutMs: 10_000,
    })
    expect(resolveAzureOptions({}, {}).subscriptionId).toBeUndefined()
  })

  it('config wins over the environment; values are kept as given', () => {
    const o = resolveAzureOptions(
      { subscriptionId: SUB, region: 'eastus2', runtime: { python: '3.12', nodejs: '22' }, appInsights: true, endpoints: { management: 'http://127.0.0.1:8080/' } },
      { AZURE_SUBSCRIPTION_ID: '99999999-2222-4333-8444-555555555555' },
    )
    expect(o).toMatchObject({ subscriptionId: SUB, region: 'eastus2', runtime: { python: '3.12', nodejs: '22' }, appInsights: true })
    expect(o.endpoints.management).toBe('http://127.0.0.1:8080')
  })

  it.each([
    [{ region: 'West Europe' }, 'azure.region'],
    [{ subscriptionId: 'abc' }, 'azure.subscriptionId'],
    [{ runtime: { python: '3.7' } }, 'azure.runtime.python'],
    [{ runtime: { nodejs: '18' } }, 'azure.runtime.nodejs'],
    [{ endpoints: { management: 'http://example.com' } }, 'azure.endpoints.management'],
    [{ endpoints: { functions: 'https://x.example.com' } }, 'azure.endpoints.functions'],
    [{ resourceGroupPrefix: 'Sebs_1' }, 'azure.resourceGroupPrefix'],
    [{ bogus: 1 }, 'azure'],
  ])('rejects %j naming %s', (raw, field) => {
    expect(() => resolveAzureOptions(raw, {})).toThrow(new RegExp(`Invalid config value at '${field.replace('.', '\\.')}`))
  })

  it('maps languages to Functions runtime names', () => {
    expect(linuxFxVersion('python', '3.11')).toBe('Python|3.11')
    expect(linuxFxVersion('nodejs', '20')).toBe('Node|20')
    expect(workerRuntime('nodejs')).toBe('node')
    expect(workerRuntime('python')).toBe('python')
  })
})
