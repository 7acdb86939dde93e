import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { formatInvocationsCsv, INVOCATION_COLUMNS, writeInvocationsCsv } from './invocations-csv.ts'
import { makeRecord } from '../test/support/test-records.ts'

describe('formatInvocationsCsv', () => {
  const records = [
    makeRecord({ requestId: 'a', startedAt: 1, clientTimeUs: 10_000, functionTimeUs: 5_000, counters: { instructions: { value: 123, source: 'perf' } } }),
    makeRecord({ requestId: 'b', startedAt: 2, state: 'error', error: 'Error: boom, "bad"\nat line 2', params: { payloadBytes: 1024 } }),
    makeRecord({ requestId: 'c', startedAt: 3, discarded: true, discardReason: 'warm-up', measurement: { download_time: 12, sizes: [1, 2] } }),
  ]
  const csv = formatInvocationsCsv(records)
  const [header] = csv.split('\n')

  it('has the record fields in a fixed order, then nested maps flattened', () => {
    expect(header.split(',')).toEqual([
      ...INVOCATION_COLUMNS,
      'counter.instructions',
      'counter.instructions.source',
      'param.payloadBytes',
      'measurement.download_time',
      'measurement.sizes',
    ])
  })

  it('writes every record, failed and discarded ones too, with the records units', () => {
    const col = (name: string) => header.split(',').indexOf(name)
    // Quoted fields may hold commas and line breaks: count records by request id instead of lines.
    expect(csv.match(/container-1/g)).toHaveLength(3)
    const first = csv.split('\n')[1].split(',')
    expect(first[col('requestId')]).toBe('a')
    expect(first[col('clientTimeUs')]).toBe('10000')
    expect(first[col('outputValid')]).toBe('true')
    expect(first[col('isCold')]).toBe('false')
    expect(first[col('counter.instructions')]).toBe('123')
    expect(first[col('counter.instructions.source')]).toBe('perf')
    expect(first[col('error')]).toBe('')
    expect(csv).toContain('"Error: boom, ""bad""\nat line 2"')
    expect(csv).toContain('"[1,2]"')
    expect(csv).toMatch(/,warm-up,/)
  })

  it('has a point column: the experiment point, empty for records without one', () => {
    const out = formatInvocationsCsv([makeRecord({ requestId: 'p', experiment: 'invocation-overhead', point: 'payload 1024B warm' }), makeRecord({ requestId: 'q' })])
    const [head, withPoint, without] = out.trimEnd().split('\n')
    const col = head!.split(',').indexOf('point')
    expect(col).toBe(INVOCATION_COLUMNS.indexOf('experiment') + 1)
    expect(withPoint!.split(',')[col]).toBe('payload 1024B warm')
    expect(without!.split(',')[col]).toBe('')
  })

  it('keeps fields added to records later as their own columns', () => {
    const later = formatInvocationsCsv([{ ...makeRecord(), region: 'eu-west-1', extra: { a: 1 } } as never])
    const cols = later.split('\n')[0].split(',')
    expect(cols.slice(INVOCATION_COLUMNS.length)).toEqual(['extra', 'region'])
    expect(later).toContain('"{""a"":1}",eu-west-1')
  })

  it('is a header alone for no records, and is written atomically to the run directory', async () => {
    expect(formatInvocationsCsv([]).trim()).toBe(INVOCATION_COLUMNS.join(','))
    const dir = mkdtempSync(join(tmpdir(), 'sebs-inv-csv-'))
    try {
      const path = await writeInvocationsCsv(dir, records)
      expect(path).toBe(join(dir, 'invocations.csv'))
      expect(readFileSync(path, 'utf8')).toBe(csv)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
