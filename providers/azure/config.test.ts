import { describe, expect, it } from 'vitest'
import { flexInstanceMemory, linuxFxVersion, resolveAzureOptions, workerRuntime } from './config.ts'

const SUB = '11111111-2222-4333-8444-555555555555'

describe('azure config', () => {
  it('fills in defaults and takes the subscription from AZURE_SUBSCRIPTION_ID', () => {
    const o = resolveAzureOptions({}, { AZURE_SUBSCRIPTION_ID: SUB })
    expect(o).toMatchObject({
      region: 'westeurope',
      plan: 'flex',
      subscriptionId: SUB,
      resourceGroupPrefix: 'sebs',
      runtime: { python: '3.12', nodejs: '22' },
      packageSasDays: 2,
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

  it('plan: flex by default, consumption on request; each plan refuses the versions it does not run, naming the fix', () => {
    expect(resolveAzureOptions({ plan: 'consumption' }, {}).plan).toBe('consumption')
    expect(resolveAzureOptions({ runtime: { python: '3.13' } }, {}).runtime.python).toBe('3.13')
    expect(() => resolveAzureOptions({ plan: 'consumption', runtime: { python: '3.13' } }, {})).toThrow(
      /azure\.runtime\.python.*Linux Consumption plan runs python 3\.9, 3\.10, 3\.11, 3\.12, not 3\.13.*azure\.plan to 'flex'/,
    )
    expect(() => resolveAzureOptions({ runtime: { python: '3.9' } }, {})).toThrow(/Flex Consumption plan runs python 3\.10, 3\.11, 3\.12, 3\.13, not 3\.9.*'consumption'/)
    expect(() => resolveAzureOptions({ plan: 'premium' }, {})).toThrow(/azure\.plan/)
  })

  it('the package SAS lives 2 days, a year with keep, or as configured', () => {
    expect(resolveAzureOptions({ keep: true }, {}).packageSasDays).toBe(365)
    expect(resolveAzureOptions({ packageSasDays: 30 }, {}).packageSasDays).toBe(30)
    expect(() => resolveAzureOptions({ packageSasDays: 0 }, {})).toThrow(/azure\.packageSasDays/)
  })

  it('maps SeBS memory to the smallest Flex instance that is at least as large', () => {
    expect([128, 512, 513, 1024, 2048, 3008, 4096, 10240].map(flexInstanceMemory)).toEqual([512, 512, 2048, 2048, 2048, 4096, 4096, 4096])
  })
})
