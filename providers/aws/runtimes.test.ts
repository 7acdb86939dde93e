import { describe, expect, it } from 'vitest'
import { checkRuntime, creatableRuntimes, lambdaRuntime } from './runtimes.ts'

const at = (d: string) => new Date(`${d}T12:00:00Z`)

describe('Lambda runtime table', () => {
  it('python3.9 is blocked for new functions since 2026-02-03, python3.10 since 2026-11-30: a clear error naming the date and the fix', () => {
    expect(() => checkRuntime('python3.9', 'python', { now: at('2026-12-05') })).toThrow(
      /python3\.9 is deprecated: AWS has blocked creating functions with it since 2026-02-03.*aws\.runtime\.python to one of python3\.14, python3\.13, python3\.12, python3\.11/,
    )
    expect(() => checkRuntime('python3.10', 'python', { now: at('2026-11-30') })).toThrow(/since 2026-11-30/)
    // The day before, it is only deprecated: a warning.
    expect(checkRuntime('python3.10', 'python', { now: at('2026-11-29') }).warning).toMatch(/deprecated since 2026-10-31.*blocked from 2026-11-30/)
    expect(() => checkRuntime('nodejs18.x', 'nodejs', { now: at('2026-12-05') })).toThrow(/nodejs18\.x.*since 2026-02-03.*nodejs24\.x, nodejs22\.x/)
  })

  it('supported runtimes pass without a warning; an update is blocked later than a create', () => {
    expect(checkRuntime('python3.12', 'python', { now: at('2026-12-05') })).toEqual({})
    expect(checkRuntime('nodejs22.x', 'nodejs', { now: at('2026-12-05') })).toEqual({})
    expect(() => checkRuntime('python3.10', 'python', { now: at('2026-12-05'), action: 'update' })).not.toThrow()
    expect(() => checkRuntime('python3.9', 'python', { now: at('2026-12-05'), action: 'update' })).toThrow(/blocked updating functions with it since 2026-03-09/)
  })

  it('an id the table does not know is used with a warning; a runtime of the other language is refused', () => {
    expect(checkRuntime('python3.15', 'python').warning).toMatch(/not in this version's runtime table/)
    expect(() => checkRuntime('nodejs22.x', 'python')).toThrow(/aws\.runtime\.python is 'nodejs22\.x', a nodejs runtime/)
  })

  it('knows the OS and glibc of each runtime', () => {
    expect(lambdaRuntime('python3.11')).toMatchObject({ os: 'al2', glibc: [2, 26] })
    expect(lambdaRuntime('python3.12')).toMatchObject({ os: 'al2023', glibc: [2, 34] })
    expect(creatableRuntimes('nodejs', at('2026-12-05'))).toEqual(['nodejs24.x', 'nodejs22.x'])
  })
})
