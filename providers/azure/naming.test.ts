import { describe, expect, it } from 'vitest'
import {
  benchmarksContainer,
  cosmosContainerName,
  dataStorageAccount,
  functionAppName,
  functionResourceGroup,
  functionStorageAccount,
  resourceIdFor,
  sebsTags,
} from './naming.ts'

const SUB = '11111111-2222-4333-8444-555555555555'

describe('azure resource names', () => {
  it('tags every resource with the run id and sebs-managed', () => {
    expect(sebsTags('run-1', { 'sebs-kind': 'function' })).toEqual({ 'sebs-managed': 'true', 'sebs-run-id': 'run-1', 'sebs-kind': 'function' })
  })

  it('function app names are DNS labels, distinct per run, benchmark and language', () => {
    const a = functionAppName('sebs', '20261128-101010-abcdef', SUB, '130.crud-api', 'python')
    expect(a).toMatch(/^[a-z0-9][a-z0-9-]{0,58}[a-z0-9]$/)
    expect(a.startsWith('sebs-130-crud-api-py-')).toBe(true)
    expect(functionAppName('sebs', '20261128-101010-abcdef', SUB, '130.crud-api', 'nodejs')).not.toBe(a)
    expect(functionAppName('sebs', 'other-run', SUB, '130.crud-api', 'python')).not.toBe(a)
    expect(functionAppName('sebs', '20261128-101010-abcdef', SUB, '130.crud-api', 'python')).toBe(a)
    const long = functionAppName('sebs', 'r', SUB, `999.${'x'.repeat(100)}`, 'nodejs')
    expect(long.length).toBeLessThanOrEqual(60)
    expect(long).toMatch(/^[a-z0-9-]+-js-[0-9a-f]{8}$/)
  })

  it('resource groups hold the run id and the app name, within 90 characters', () => {
    const app = functionAppName('sebs', 'run-1', SUB, '110.dynamic-html', 'python')
    const rg = functionResourceGroup('sebs', 'run-1', app)
    expect(rg).toBe(`sebs-run-1-${app}`)
    expect(functionResourceGroup('sebs', 'r'.repeat(100), app).length).toBeLessThanOrEqual(90)
  })

  it('storage accounts are 3–24 lowercase alphanumerics', () => {
    for (const name of [functionStorageAccount('sebs-110-dynamic-html-py-12345678'), dataStorageAccount('abcdef123456'), dataStorageAccount(resourceIdFor(SUB, 'westeurope'))]) {
      expect(name).toMatch(/^[a-z0-9]{3,24}$/)
    }
  })

  it('data names are stable per subscription and region', () => {
    expect(resourceIdFor(SUB, 'westeurope')).toBe(resourceIdFor(SUB, 'westeurope'))
    expect(resourceIdFor(SUB, 'eastus')).not.toBe(resourceIdFor(SUB, 'westeurope'))
    expect(benchmarksContainer('abc')).toBe('sebs-benchmarks-abc')
    expect(cosmosContainerName('130.crud-api', 'shopping_cart')).toBe('130.crud-api-shopping_cart')
    expect(cosmosContainerName('a/b', 'c#d?')).toBe('a-b-c-d-')
  })
})
