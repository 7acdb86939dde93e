import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { WrapperEnvelope } from '../core/types.ts'
import type { DeployedFunction, InvokeResult } from '../providers/types.ts'
import { buildRecord, measure, measureInvocation, recordHarnessError, type InvocationContext } from './measure.ts'

const envelope = (over: Partial<WrapperEnvelope> = {}): WrapperEnvelope => ({
  begin: 1_000_000,
  end: 1_250_000,
  computeTimeUs: 200_000,
  isCold: true,
  containerId: 'c1',
  requestId: 'r1',
  result: { ok: 1 },
  rssPeakKb: 30_000,
  cpuUserUs: 10,
  cpuSystemUs: 5,
  ...over,
})

function ctx(recordsFile: string, over: Partial<InvocationContext> = {}): InvocationContext {
  return { runId: 'run', recordsFile, benchmark: '110.x', language: 'python', size: 'test', provider: 'local', memory: 128, trigger: 'http', dataDir: '/d', ...over }
}

function fakeFunction(results: InvokeResult[]): DeployedFunction {
  return {
    handle: { provider: 'local', name: 'f', benchmark: '110.x', language: 'python', memory: 128, timeout: 1, trigger: 'http', runId: 'run', data: {} },
    invoke: async () => {
      const r = results.shift()
      if (!r) throw new Error('provider exploded')
      return r
    },
    forceColdStart: async () => {},
    update: async () => {},
    delete: async () => {},
  }
}

describe('buildRecord', () => {
  it('derives function time from the envelope and keeps provider times', () => {
    const r = buildRecord(ctx('/x'), { phase: 'cold', repetition: 0, expect: 'cold' }, { state: 'ok', envelope: envelope(), clientTimeUs: 300_000.4, providerTimeUs: 240_000 }, 5, { valid: true })
    expect(r).toMatchObject({ state: 'ok', functionTimeUs: 250_000, computeTimeUs: 200_000, clientTimeUs: 300_000, providerTimeUs: 240_000, isCold: true, containerId: 'c1', outputValid: true, phase: 'cold', startedAt: 5 })
    expect(r.discarded).toBeUndefined()
  })

  it('marks a sample of the wrong kind as discarded, with the reason', () => {
    const r = buildRecord(ctx('/x'), { phase: 'warm', repetition: 3, expect: 'warm' }, { state: 'ok', envelope: envelope({ isCold: true }), clientTimeUs: 1 }, 0, { valid: true })
    expect(r.discarded).toBe(true)
    expect(r.discardReason).toBe('expected a warm start, got a cold one')
  })

  it('records errors and timeouts with their message', () => {
    const e = buildRecord(ctx('/x'), { phase: 'warm', repetition: 0 }, { state: 'error', error: 'Error: boom', clientTimeUs: 10 }, 0, { valid: false })
    expect(e).toMatchObject({ state: 'error', error: 'Error: boom', outputValid: false, functionTimeUs: 0 })
    const t = buildRecord(ctx('/x'), { phase: 'warm', repetition: 0 }, { state: 'timeout', error: 'exceeded 2 s', clientTimeUs: 2_000_000 }, 0, { valid: false })
    expect(t).toMatchObject({ state: 'timeout', error: 'exceeded 2 s', clientTimeUs: 2_000_000 })
    // Not out of memory: no errorKind.
    expect(e).not.toHaveProperty('errorKind')
  })

  it('marks an out-of-memory end errorKind oom, and an instance started for the call (init time) cold without an envelope', () => {
    const killed = buildRecord(
      ctx('/x'),
      { phase: 'cold', repetition: 0, expect: 'cold' },
      { state: 'error', error: 'instance was killed by SIGKILL: memory limit exceeded: the instance needed more than its 128 MB and was killed by the OOM killer (cgroup memory limit)', clientTimeUs: 10, initTimeUs: 5 },
      0,
      { valid: false },
    )
    expect(killed).toMatchObject({ state: 'error', errorKind: 'oom', isCold: true })
    // On a warm instance (no instance started for the call) the same end is not a cold start.
    const warm = buildRecord(ctx('/x'), { phase: 'warm', repetition: 0 }, { state: 'error', error: 'MemoryError: ', clientTimeUs: 10 }, 0, { valid: false })
    expect(warm).toMatchObject({ state: 'error', errorKind: 'oom', isCold: false })
  })
})

describe('measureInvocation', () => {
  it('validates, appends one JSON line per invocation, and never throws for failures', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'sebs-inv-')), 'invocations.jsonl')
    const fn = fakeFunction([
      { state: 'ok', envelope: envelope(), clientTimeUs: 10 },
      { state: 'ok', envelope: envelope({ isCold: false, result: { ok: 2 } }), clientTimeUs: 10 },
      { state: 'timeout', error: 'too slow', clientTimeUs: 10 },
    ])
    const validator = ({ output }: { output: unknown }) => ((output as { ok: number }).ok === 1 ? undefined : `ok was ${(output as { ok: number }).ok}, expected 1`)
    const c = ctx(file, { validator })
    const a = await measureInvocation(fn, {}, c, { phase: 'cold', repetition: 0 })
    const b = await measureInvocation(fn, {}, c, { phase: 'warm', repetition: 0 })
    const t = await measureInvocation(fn, {}, c, { phase: 'warm', repetition: 1 })
    const x = await measureInvocation(fn, {}, c, { phase: 'warm', repetition: 2 })
    expect(a.outputValid).toBe(true)
    expect(b.outputValid).toBe(false)
    expect(b.state === 'ok' && b.validationError).toBe('ok was 2, expected 1')
    expect(t.state).toBe('timeout')
    expect(x.state === 'error' && x.error).toBe('provider exploded')
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l))
    expect(lines.map((l) => l.state)).toEqual(['ok', 'ok', 'timeout', 'error'])
  })
})

describe('measure (the one measurement path)', () => {
  it('passes the wrapper measurement to validateOutput, runs the hooks in order and appends once', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'sebs-inv-')), 'invocations.jsonl')
    const fn = fakeFunction([{ state: 'ok', envelope: envelope({ measurement: { frames: 3 } }), clientTimeUs: 42 }])
    const seen: unknown[] = []
    const steps: string[] = []
    const onRecord: string[] = []
    const c = ctx(file, {
      validator: ({ measurement }) => {
        seen.push(measurement)
        steps.push('validate')
        return undefined
      },
      costModel: 'aws-x86_64',
      onRecord: (r) => onRecord.push(r.phase),
    })
    const m = await measure(fn, {}, c, { phase: 'warm', repetition: 0 }, {
      probe: async () => {
        steps.push('probe start')
        return async () => {
          steps.push('probe stop')
          return { counters: { x: { value: 1, source: 'test' } }, params: { probed: true } }
        }
      },
      decorate: (record, _result, probed) => {
        steps.push('decorate')
        return { ...record, counters: probed.counters, costUsd: 7 }
      },
      annotate: ({ sendUs, recvUs }) => {
        steps.push('annotate')
        return { took: recvUs >= sendUs }
      },
    })
    expect(seen).toEqual([{ frames: 3 }])
    expect(steps).toEqual(['probe start', 'probe stop', 'validate', 'decorate', 'annotate'])
    // decorate replaces the default cost step: its cost stands, no costModel label from ctx.costModel.
    expect(m.record).toMatchObject({ costUsd: 7, counters: { x: { value: 1 } }, params: { probed: true, took: true } })
    expect(m.record.costModel).toBeUndefined()
    expect(onRecord).toEqual(['warm'])
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l))
    expect(lines).toEqual([JSON.parse(JSON.stringify(m.record))])
  })

  it("prices a plain record with the context's cost model", async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'sebs-inv-')), 'invocations.jsonl')
    const r = await measureInvocation(fakeFunction([{ state: 'ok', envelope: envelope(), clientTimeUs: 10, billedTimeMs: 250 }]), {}, ctx(file, { costModel: 'aws-x86_64' }), { phase: 'warm', repetition: 0 })
    expect(r.costUsd).toBeGreaterThan(0)
    expect(r.costModel).toMatch(/aws-x86_64/)
  })

  it('records a harness error as a failed invocation through the same append', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'sebs-inv-')), 'invocations.jsonl')
    const r = recordHarnessError(ctx(file, { memory: 0 }), { phase: 'cold', repetition: 0 }, new Error('not prepared'))
    expect(r).toMatchObject({ state: 'error', error: 'harness error: not prepared', outputValid: false, phase: 'cold' })
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ error: 'harness error: not prepared' })
  })
})
