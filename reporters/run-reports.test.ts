import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { fixtureRecords } from '../test/support/report-fixture.ts'
import { writeRunReports } from './run-reports.ts'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sebs-run-reports-'))
})
afterEach(() => {
  rmSync(dir, { recursive: true, force: true })
})

describe('writeRunReports', () => {
  it('writes every output of the run and returns the console text', async () => {
    const resultsDir = join(dir, 'results')
    const runDir = join(resultsDir, 'r3')
    const stepSummary = join(dir, 'step-summary.md')
    const records = fixtureRecords('r3')
    const out = await writeRunReports(runDir, records, { resultsDir, runId: 'r3', provider: 'local', env: { GITHUB_STEP_SUMMARY: stepSummary } })

    const names = ['summary.json', 'summary.csv', 'invocations.csv', 'summary.md', 'github-action-benchmark.json', 'github-action-benchmark-cold.json', 'github-action-benchmark-warm.json', 'bencher.json', 'report.html']
    expect(out.errors).toEqual([])
    expect(out.files).toEqual(names.map((n) => join(runDir, n)))
    expect(readdirSync(runDir).sort()).toEqual([...names].sort())
    expect(out.stepSummary).toBe(stepSummary)
    expect(readFileSync(stepSummary, 'utf8')).toBe(readFileSync(join(runDir, 'summary.md'), 'utf8') + '\n')

    const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8'))
    expect(summary).toMatchObject({ schemaVersion: 2, runId: 'r3', provider: 'local', totals: { invocations: records.length, errors: 1 } })
    expect(out.summary.cases).toHaveLength(20)
    expect(readFileSync(join(runDir, 'invocations.csv'), 'utf8').match(/\nr3,/g)).toHaveLength(records.length)
    expect(JSON.parse(readFileSync(join(runDir, 'github-action-benchmark.json'), 'utf8'))).toHaveLength(12 * 2 + 8 * 3) // 110: client and function time; 210 also cost
    expect(Object.keys(JSON.parse(readFileSync(join(runDir, 'bencher.json'), 'utf8')))).toHaveLength(20)

    expect(out.consoleTable).toMatch(/^Run r3 \(local\): 103 invocations, 102 ok, 1 error; times in ms/)
    expect(out.consoleTable).toMatch(/\nFailures in 1 case:\n {2}210\.thumbnailer python small 128 MB http warm: 1 error of 9 invocations/)
  })

  it('keeps writing the other outputs when one fails, and says which', async () => {
    const runDir = join(dir, 'r1')
    mkdirSync(runDir)
    // A directory where report.html should go: renaming the finished file onto it fails (even as root).
    mkdirSync(join(runDir, 'report.html'))
    writeFileSync(join(runDir, 'report.html', 'keep'), '')
    const out = await writeRunReports(runDir, fixtureRecords('r1'), { resultsDir: dir, runId: 'r1', provider: 'local', env: {} })
    expect(out.errors).toHaveLength(1)
    expect(out.errors[0]).toMatch(/^report\.html: /)
    expect(out.files.map((f) => f.slice(runDir.length + 1))).toEqual([
      'summary.json',
      'summary.csv',
      'invocations.csv',
      'summary.md',
      'github-action-benchmark.json',
      'github-action-benchmark-cold.json',
      'github-action-benchmark-warm.json',
      'bencher.json',
    ])
    expect(out.consoleTable).toMatch(/\nCould not write 1 output\(s\):\n {2}report\.html: /)
  })
})
