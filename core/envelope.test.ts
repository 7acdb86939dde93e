import { describe, expect, it } from 'vitest'
import { envelopeProblem, isWrapperEnvelope } from './envelope.ts'

const good = { begin: 1, end: 2, computeTimeUs: 1, isCold: true, containerId: 'c', requestId: 'r', result: {} }

describe('the wrapper envelope check (every provider uses it)', () => {
  it('accepts an envelope with the fields every record needs', () => {
    expect(envelopeProblem(good)).toBeUndefined()
    expect(isWrapperEnvelope(good)).toBe(true)
  })

  it('names what is wrong: types, not only keys', () => {
    expect(envelopeProblem([1])).toMatch(/expected an object/)
    expect(envelopeProblem(null)).toMatch(/expected an object, got null/)
    expect(envelopeProblem({ ...good, begin: '1' })).toBe("'begin' is not a number")
    expect(envelopeProblem({ ...good, computeTimeUs: undefined })).toBe("'computeTimeUs' is not a number")
    expect(envelopeProblem({ ...good, isCold: 'true' })).toBe("'isCold' is not a boolean")
    expect(envelopeProblem({ ...good, containerId: '' })).toBe("'containerId' is missing")
    expect(envelopeProblem({ ...good, requestId: 7 })).toBe("'requestId' is missing")
    expect(isWrapperEnvelope({ begin: 1, end: 2, isCold: true })).toBe(false)
  })
})
