import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import type { Size } from '../../../core/types.ts'
import { runFunction } from '../../_lib/testing/run-function.ts'
import { bucketsCount, generateInput, validateOutput } from './input.ts'

const DIR = dirname(fileURLToPath(import.meta.url))

function inputFor(size: Size): Record<string, unknown> {
  return generateInput({ dataDir: '/nonexistent', size, bucket: 'b', inputPrefixes: [], outputPrefixes: [], upload: async () => '' })
}

function page(items: string[], greeting = 'Welcome testname!', time = 'Data generated at: 2026-11-28 12:00:00!'): string {
  return `<html><body><p>${greeting}</p><p>${time}</p><ul>\n${items.map((n) => `  <li>${n}</li>\n`).join('')}</ul></body></html>`
}

function validate(input: Record<string, unknown>, output: unknown): string | undefined {
  return validateOutput({ dataDir: '/x', size: 'test', language: 'python', input, output }) as string | undefined
}

describe('110.dynamic-html input', () => {
  it('lists 10 / 1000 / 100000 numbers for testname', () => {
    expect(bucketsCount()).toEqual([0, 0])
    expect([inputFor('test'), inputFor('small'), inputFor('large')]).toEqual([
      { username: 'testname', random_len: 10 },
      { username: 'testname', random_len: 1000 },
      { username: 'testname', random_len: 100_000 },
    ])
  })

  it('accepts a page with greeting, time and one <li> per number', () => {
    const input = inputFor('test')
    expect(validate(input, page(Array.from({ length: 10 }, (_, i) => String(i * 7))))).toBeUndefined()
  })

  it('rejects pages that miss a part, with a message saying which', () => {
    const input = inputFor('test')
    const ten = Array.from({ length: 10 }, (_, i) => String(i))
    expect(validate(input, 42)).toMatch(/string, got number/)
    expect(validate(input, page(ten, 'Welcome someone!'))).toMatch(/lacks the greeting "Welcome testname!"/)
    expect(validate(input, page(ten, undefined, 'Data generated at: !'))).toMatch(/Data generated at/)
    expect(validate(input, page(ten.slice(1)))).toMatch(/lists 9 <li> numbers, expected random_len = 10/)
    expect(validate(input, page([...ten.slice(1), 'x']))).toMatch(/1 <li> items hold something other than a number/)
    expect(validate(input, page([...ten.slice(1), '1000000']))).toMatch(/outside/)
  })
})

// The first run of a language may install its dependencies into the cache first.
const RUN_TIMEOUT = 180_000

describe.each(['python', 'nodejs'] as const)('110.dynamic-html %s handler', (language) => {
  const run = (event: Record<string, unknown>) => runFunction({ benchmarkDir: DIR, language, event })
  it.each(['test', 'small', 'large'] as const)('renders a valid page for size %s', { timeout: RUN_TIMEOUT }, async (size) => {
    const event = inputFor(size)
    const { output } = await run(event)
    const html = output.result as string
    expect(validateOutput({ dataDir: '/x', size, language, input: event, output: html })).toBeUndefined()
    expect(html).toMatch(/^<!DOCTYPE html>/)
    expect(html).toMatch(/Data generated at: \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}!/)
  })

  it('draws fresh numbers on every call', { timeout: RUN_TIMEOUT }, async () => {
    const event = { username: 'testname', random_len: 50 }
    const a = (await run(event)).output.result as string
    const b = (await run(event)).output.result as string
    const numbers = (html: string) => [...html.matchAll(/<li>(\d+)<\/li>/g)].map((m) => m[1]).join(',')
    expect(numbers(a)).not.toBe(numbers(b))
  })

  it('escapes the username like any template input', { timeout: RUN_TIMEOUT }, async () => {
    const { output } = await run({ username: '<script>x</script>', random_len: 1 })
    expect(output.result).not.toContain('<script>')
    expect(output.result).toContain('&lt;script&gt;')
  })

  it('refuses a bad random_len', { timeout: RUN_TIMEOUT }, async () => {
    await expect(run({ username: 'u', random_len: -1 })).rejects.toThrow(/random_len must be an integer/)
  })
})
