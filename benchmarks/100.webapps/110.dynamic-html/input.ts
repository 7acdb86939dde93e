/**
 * 110.dynamic-html: the event is `{username, random_len}`; the function
 * renders a page greeting the user, stating when it was generated and
 * listing `random_len` random numbers, one `<li>` each.
 */
import type { GenerateInputContext, ValidateOutputContext } from '../../../core/benchmark-input.ts'

/** How many random numbers the page lists per size (SeBS's values). */
export const RANDOM_LEN = { test: 10, small: 1000, large: 100_000 } as const
export const USERNAME = 'testname'

export function bucketsCount(): [number, number] {
  return [0, 0]
}

export function generateInput(ctx: GenerateInputContext): Record<string, unknown> {
  const randomLen = RANDOM_LEN[ctx.size]
  if (randomLen === undefined) throw new Error(`unknown size '${String(ctx.size)}'; expected one of ${Object.keys(RANDOM_LEN).join(', ')}`)
  return { username: USERNAME, random_len: randomLen }
}

const LIST_ITEM = /<li>\s*(\d+)\s*<\/li>/g
// The time is local and free-form per language; it must be there and not empty.
const GENERATED_AT = /Data generated at: ([^<!]*\d[^<!]*)!/

export function validateOutput(ctx: ValidateOutputContext): string | undefined {
  const html = ctx.output
  if (typeof html !== 'string') return `expected the rendered HTML as a string, got ${typeof html}`
  const username = typeof ctx.input.username === 'string' ? ctx.input.username : USERNAME
  if (!html.includes(`Welcome ${username}!`)) return `the page lacks the greeting "Welcome ${username}!"`
  if (!GENERATED_AT.test(html)) return 'the page lacks "Data generated at: <time>!"'
  const expected = ctx.input.random_len
  const items = [...html.matchAll(LIST_ITEM)]
  const allItems = html.match(/<li\b/g)?.length ?? 0
  if (allItems !== items.length) return `${allItems - items.length} <li> items hold something other than a number`
  if (items.length !== expected) return `the page lists ${items.length} <li> numbers, expected random_len = ${JSON.stringify(expected)}`
  const outOfRange = items.find((m) => Number(m[1]) >= 1_000_000)
  if (outOfRange) return `the number ${outOfRange[1]} is outside [0, 1000000)`
  return undefined
}
