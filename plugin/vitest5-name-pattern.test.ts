/**
 * Vitest 5's `-t` made from the user's pattern (plugin/vite-plugin.ts
 * vitest5NamePattern, test process): Vitest 5 joins names with ` > `, so the
 * plugin hands it the exact names of the selected tasks.
 */
import { expect, it } from 'vitest'
import type { BenchmarkDefinition } from '../core/types.ts'
import { enumerateCases, selectCases } from '../engine/selection.ts'
import { vitest5NamePattern } from './vite-plugin.ts'

const bench = (id: string): BenchmarkDefinition => ({ id, dir: `/b/${id}`, config: { languages: ['python', 'nodejs'] } }) as unknown as BenchmarkDefinition
const cases = enumerateCases([bench('010.sleep'), bench('110.dynamic-html')], { sizes: ['test', 'small'] })
const vitest5Names = cases.flatMap((c) => c.taskNames.slice(c.taskNames.length / 2))

function runs(pattern: RegExp): string[] {
  const p = vitest5NamePattern(selectCases(cases, { testNamePattern: pattern, root: '/' }), pattern)
  return vitest5Names.filter((name) => p.test(name))
}

it("the README's spelling selects the tasks of the cases it names, and only them", () => {
  expect(runs(/110.dynamic-html python test/)).toEqual(['110.dynamic-html > python test · cold', '110.dynamic-html > python test · warm'])
  // A prefix of case names selects every case it starts (both sizes here).
  expect(runs(/110.dynamic-html python/)).toEqual([
    '110.dynamic-html > python test · cold',
    '110.dynamic-html > python small · cold',
    '110.dynamic-html > python test · warm',
    '110.dynamic-html > python small · warm',
  ].sort((a, b) => vitest5Names.indexOf(a) - vitest5Names.indexOf(b)))
})

it("a task pattern selects only those tasks; Vitest 5's own spelling works too", () => {
  expect(runs(/010.sleep.*· cold/)).toEqual(['010.sleep > python test · cold', '010.sleep > python small · cold', '010.sleep > nodejs test · cold', '010.sleep > nodejs small · cold'])
  expect(runs(/010.sleep > nodejs small/)).toEqual(['010.sleep > nodejs small · cold', '010.sleep > nodejs small · warm'])
})

it('names with regular-expression characters are matched literally', () => {
  const p = vitest5NamePattern(selectCases(cases, { testNamePattern: /010.sleep python test/, root: '/' }), /010.sleep python test/)
  expect(p.test('010.sleep > python test · cold')).toBe(true)
  // The '.' of the id is escaped.
  expect(p.test('010xsleep > python test · cold')).toBe(false)
})
