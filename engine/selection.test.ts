import { describe, expect, it } from 'vitest'
import type { BenchmarkDefinition } from '../core/types.ts'
import { enumerateCases, nothingSelectedError, selectCases } from './selection.ts'

const bench = (id: string, languages: Array<'python' | 'nodejs'>): BenchmarkDefinition => ({
  id,
  group: '100.g',
  dir: `/b/100.g/${id}`,
  config: { timeout: 1, memory: 128, languages, variants: {}, modules: [] },
  input: { kind: 'ts', path: `/b/100.g/${id}/input.ts` },
  source: '/b',
})

describe('selection', () => {
  const all = enumerateCases([bench('110.dynamic-html', ['python', 'nodejs']), bench('501.graph-pagerank', ['python'])], { sizes: ['test', 'small'] })

  it('enumerates benchmark × language × size', () => {
    expect(all.map((c) => c.fullName)).toEqual([
      '110.dynamic-html python test',
      '110.dynamic-html python small',
      '110.dynamic-html nodejs test',
      '110.dynamic-html nodejs small',
      '501.graph-pagerank python test',
      '501.graph-pagerank python small',
    ])
  })

  it('restricts languages', () => {
    expect(enumerateCases([bench('110.a', ['python', 'nodejs'])], { sizes: ['test'], languages: ['nodejs'] }).map((c) => c.fullName)).toEqual(['110.a nodejs test'])
  })

  it('applies -t like Vitest (against "<describe> <bench>") and file filters', () => {
    expect(selectCases(all, { root: '/', testNamePattern: /110.dynamic-html/ })).toHaveLength(4)
    expect(selectCases(all, { root: '/', testNamePattern: /python/ })).toHaveLength(4)
    expect(selectCases(all, { root: '/', testNamePattern: /small/ }).map((c) => c.fullName)).toEqual(['110.dynamic-html python small', '110.dynamic-html nodejs small', '501.graph-pagerank python small'])
    expect(selectCases(all, { root: '/b', fileFilters: ['501'] }).map((c) => c.benchmark)).toEqual(['501.graph-pagerank', '501.graph-pagerank'])
    expect(selectCases(all, { root: '/', testNamePattern: /nothing/ })).toEqual([])
  })

  it("matches -t against the names of a case's tasks too (cold and warm are separate Vitest tasks)", () => {
    expect(all[0]!.taskNames).toEqual([
      '110.dynamic-html python test · cold',
      '110.dynamic-html python test · warm',
      // Vitest 5 joins a task's names with ' > '.
      '110.dynamic-html > python test · cold',
      '110.dynamic-html > python test · warm',
    ])
    expect(selectCases(all, { root: '/', testNamePattern: /501.graph-pagerank > python/ }).map((c) => c.fullName)).toEqual(['501.graph-pagerank python test', '501.graph-pagerank python small'])
    expect(selectCases(all, { root: '/', testNamePattern: /python test · cold$/ }).map((c) => c.fullName)).toEqual(['110.dynamic-html python test', '501.graph-pagerank python test'])
    expect(selectCases(all, { root: '/', testNamePattern: /· warm/ })).toHaveLength(all.length)
    expect(selectCases(all, { root: '/', testNamePattern: /nodejs test$/ }).map((c) => c.fullName)).toEqual(['110.dynamic-html nodejs test'])
  })

  it('in an experiment run, matches -t against point names (each point is one Vitest task)', () => {
    // What suites/index.ts experimentCaseParts gives for perf-cost --memory 128 (engine/ may not import suites/).
    const parts = () => ['cold 128MB', 'warm 128MB']
    const cases = enumerateCases([bench('110.dynamic-html', ['python', 'nodejs'])], { sizes: ['test'], parts })
    expect(cases[1]!.taskNames).toEqual([
      '110.dynamic-html nodejs test cold 128MB',
      '110.dynamic-html nodejs test warm 128MB',
      '110.dynamic-html > nodejs test cold 128MB',
      '110.dynamic-html > nodejs test warm 128MB',
    ])
    expect(selectCases(cases, { root: '/', testNamePattern: /110.dynamic-html nodejs test warm 128MB/ }).map((c) => c.fullName)).toEqual(['110.dynamic-html nodejs test'])
    expect(selectCases(cases, { root: '/', testNamePattern: /warm 128MB/ })).toHaveLength(2)
    expect(selectCases(cases, { root: '/', testNamePattern: /warm 256MB/ })).toEqual([])
  })

  it('explains an empty selection and lists what exists', () => {
    const err = nothingSelectedError(all, { root: '/', testNamePattern: /large/ }, { sizes: ['test', 'small'] })
    expect(err.code).toBe('NOTHING_SELECTED')
    expect(err.message).toContain('No benchmark case matches -t large')
    expect(err.message).toContain('--size')
    expect(err.message).toContain('  110.dynamic-html python test')
  })
})
