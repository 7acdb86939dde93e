import { describe, expect, it } from 'vitest'
import { createLogger } from '../../core/logger.ts'
import type { FunctionHandle } from '../types.ts'
import { LocalFunction } from './local-function.ts'
import { storageEnv } from './local-provider.ts'
import { localHandleData } from './local-function.ts'
import { pidFilePath, runDir, safeSegment } from './paths.ts'

const logger = createLogger('sebs', { quiet: true })

function handle(data: Record<string, unknown>, provider: FunctionHandle['provider'] = 'local'): FunctionHandle {
  return {
    provider,
    name: 'sebs-run-901.echo-python',
    benchmark: '901.echo',
    language: 'python',
    memory: 128,
    timeout: 2,
    trigger: 'http',
    runId: 'run',
    data,
  }
}

describe('local provider helpers', () => {
  it('storageEnv passes endpoint, credentials and region under the SEBS_STORAGE_* names', () => {
    expect(
      storageEnv({ kind: 's3', endpoint: 'http://127.0.0.1:9000', bucket: 'b', accessKey: 'A', secretKey: 'S' }),
    ).toEqual({
      SEBS_STORAGE_ENDPOINT: 'http://127.0.0.1:9000',
      SEBS_STORAGE_ACCESS_KEY: 'A',
      SEBS_STORAGE_SECRET_KEY: 'S',
      SEBS_STORAGE_REGION: 'us-east-1',
    })
    expect(storageEnv({ kind: 's3', endpoint: 'http://h:1', bucket: 'b', region: 'eu-west-1' })).toEqual({
      SEBS_STORAGE_ENDPOINT: 'http://h:1',
      SEBS_STORAGE_REGION: 'eu-west-1',
    })
  })

  it('run ids and names become single path segments', () => {
    expect(safeSegment('2026-11-28T15:08:00Z/x')).toBe('2026-11-28T15_08_00Z_x')
    expect(safeSegment('..')).toBe('_')
    expect(runDir('/c', '../../etc')).toBe('/c/local/instances/.._.._etc')
    expect(pidFilePath('/c', 'r', 42)).toBe('/c/local/instances/r/42.json')
  })

  it('connect() refuses a handle that is not a local one, saying what is missing', () => {
    expect(() => new LocalFunction(handle({}, 'aws'), logger)).toThrow(/provider is 'aws', not 'local'.*packageDir/)
    const valid = {
      packageDir: '/p',
      language: 'python',
      runtimes: { python: 'python3', node: 'node' },
      cacheDir: '/c',
    }
    expect(localHandleData(handle(valid))).toEqual({ ...valid, env: {} })
    expect(() => localHandleData(handle({ ...valid, runtimes: { python: 'python3' } }))).toThrow(/data\.runtimes is missing/)
  })
})
