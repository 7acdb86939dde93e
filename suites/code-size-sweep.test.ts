/**
 * Planning and settings of the code-package-size sweep (invocation-overhead
 * and cold-start), and ExperimentContext's code padding over a stub function.
 */
import { describe, expect, it } from 'vitest'
import { ConfigError, SebsError } from '../core/errors.ts'
import type { DeployedFunction, FunctionHandle } from '../providers/types.ts'
import { coldStart } from './cold-start.ts'
import { CostBudget, ExperimentContext } from './context.ts'
import type { ExperimentSettings } from './experiment.ts'
import { DEFAULT_CODE_SIZES, invocationOverhead } from './invocation-overhead.ts'

const target = { provider: 'local', functionsOnThisMachine: true, language: 'python' as const, deployedMemory: 128 }

function settings(options: Record<string, unknown>, memory = [128]): ExperimentSettings {
  return { repetitions: 3, memory, options }
}

function names(options: Record<string, unknown>): string[] {
  return invocationOverhead.plan(settings(options), target).map((p) => p.name)
}

describe('invocation-overhead plan', () => {
  it('stays the payload sweep by default', () => {
    expect(names({})).toEqual(['payload 1024B warm', 'payload 1024B cold', 'payload 65536B warm', 'payload 65536B cold', 'payload 1048576B warm', 'payload 1048576B cold'])
  })

  it('codeSizes alone is a code sweep; points are named by the padding and carry it', () => {
    const points = invocationOverhead.plan(settings({ codeSizes: [0, 1_048_576] }), target)
    expect(points.map((p) => p.name)).toEqual(['code 0B warm', 'code 0B cold', 'code 1048576B warm', 'code 1048576B cold'])
    expect(points[2]).toMatchObject({ sweep: 'code', codePaddingBytes: 1_048_576, phase: 'warm' })
  })

  it("sweep 'code' without sizes uses the defaults; 'both' runs payload points first", () => {
    expect(names({ sweep: 'code', phases: ['cold'] })).toEqual(DEFAULT_CODE_SIZES.map((b) => `code ${b}B cold`))
    expect(names({ sweep: 'both', payloadSizes: [10], codeSizes: [20], phases: ['warm'] })).toEqual(['payload 10B warm', 'code 20B warm'])
    expect(names({ payloadSizes: [10], codeSizes: [20], phases: ['warm'] })).toEqual(['payload 10B warm', 'code 20B warm'])
    expect(names({ sweep: 'payload', payloadSizes: [10], phases: ['warm'] })).toEqual(['payload 10B warm'])
  })

  it.each([
    [{ codeSizes: [-1] }, 'codeSizes.0'],
    [{ codeSizes: [1.5] }, 'codeSizes.0'],
    [{ codeSizes: [] }, 'codeSizes'],
    [{ codeSizes: [1024, 1024] }, 'codeSizes'],
    [{ codeSizes: 1024 }, 'codeSizes'],
    [{ codeSizes: [1024 ** 4] }, 'codeSizes.0'],
    [{ sweep: 'codes' }, 'sweep'],
    [{ sweep: 'payload', codeSizes: [0] }, 'codeSizes'],
    [{ sweep: 'code', payloadSizes: [0] }, 'payloadSizes'],
  ])('refuses %j with a ConfigError naming %s', (options, field) => {
    let error: unknown
    try {
      invocationOverhead.plan(settings(options), target)
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).message).toContain(`experiments['invocation-overhead'].${field}:`)
  })
})

describe('cold-start plan', () => {
  it('memory sizes only without codeSizes (as before)', () => {
    expect(coldStart.plan(settings({}, [128, 256]), target)).toEqual([
      { name: 'cold-start 128MB', memory: 128 },
      { name: 'cold-start 256MB', memory: 256 },
    ])
  })

  it('code size × memory with codeSizes, code sizes outermost', () => {
    expect(coldStart.plan(settings({ codeSizes: [0, 5] }, [128, 256]), target).map((p) => [p.name, p.memory, p.codePaddingBytes])).toEqual([
      ['cold-start 128MB code 0B', 128, 0],
      ['cold-start 256MB code 0B', 256, 0],
      ['cold-start 128MB code 5B', 128, 5],
      ['cold-start 256MB code 5B', 256, 5],
    ])
  })

  it('refuses bad codeSizes and unknown settings, naming the field', () => {
    expect(() => coldStart.plan(settings({ codeSizes: ['1MB'] }), target)).toThrow(/experiments\['cold-start'\]\.codeSizes\.0:/)
    expect(() => coldStart.plan(settings({ codeSize: [1] }), target)).toThrow(ConfigError)
    // Settings every experiment shares are not the experiment's own and pass.
    expect(coldStart.plan(settings({ repetitions: 5, codeSizes: [1] }), target)).toHaveLength(1)
  })
})

function stubFunction(updateCode?: DeployedFunction['updateCode']): DeployedFunction & { calls: number[] } {
  const calls: number[] = []
  const handle: FunctionHandle = { provider: 'local', name: 'stub', benchmark: '910.sleep', language: 'python', memory: 128, timeout: 10, trigger: 'http', runId: 'r', data: {} }
  return {
    handle,
    calls,
    invoke: async () => ({ state: 'error', error: 'not invoked', clientTimeUs: 0 }),
    forceColdStart: async () => {},
    update: async () => {},
    delete: async () => {},
    ...(updateCode
      ? {
          updateCode: async (o: { paddingBytes: number }) => {
            calls.push(o.paddingBytes)
            return updateCode(o)
          },
        }
      : {}),
  }
}

function contextOf(fn: DeployedFunction, provider = 'local'): ExperimentContext {
  return new ExperimentContext({
    fn,
    payload: {},
    runId: 'r',
    recordsFile: '/tmp/pkgsweep-unused.jsonl',
    experiment: 'invocation-overhead',
    benchmark: '910.sleep',
    language: 'python',
    size: 'test',
    provider,
    trigger: 'http',
    memory: 128,
    dataDir: '/tmp',
    costModel: 'aws-x86_64',
    budget: new CostBudget(undefined),
  })
}

describe('ExperimentContext code padding', () => {
  it('redeploys only when the padding changes and restores 0 at the end', async () => {
    const fn = stubFunction(async ({ paddingBytes }) => ({ paddingBytes, packageSizeBytes: 1000 + paddingBytes }))
    const ctx = contextOf(fn)
    await ctx.restoreCode() // untouched: nothing to do
    expect(fn.calls).toEqual([])
    await ctx.setCodePadding(500)
    await ctx.setCodePadding(500)
    expect(ctx.codePaddingBytes).toBe(500)
    expect(ctx.codePackageBytes).toBe(1500)
    await ctx.setCodePadding(0)
    await ctx.restoreCode() // already 0
    await ctx.setCodePadding(7)
    await ctx.restoreCode()
    expect(fn.calls).toEqual([500, 0, 7, 0])
    expect(ctx.codePaddingBytes).toBe(0)
  })

  it('a provider without updateCode: a NOT_SUPPORTED error naming the provider and the setting', async () => {
    const ctx = contextOf(stubFunction(), 'gcp')
    const err = await ctx.setCodePadding(1024).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(SebsError)
    expect((err as SebsError).code).toBe('NOT_SUPPORTED')
    expect((err as SebsError).message).toMatch(/gcp provider cannot redeploy.*codeSizes/)
  })
})
