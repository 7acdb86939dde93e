/** Which Vitest major a project runs: read from the vitest its root resolves. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { detectVitestMajor } from './vitest-major.ts'

describe('detectVitestMajor', () => {
  it("reads the major of the project's own vitest", () => {
    const root = mkdtempSync(join(tmpdir(), 'sebs-major-'))
    writeFileSync(join(root, 'package.json'), '{"name":"p","private":true}')
    mkdirSync(join(root, 'node_modules', 'vitest'), { recursive: true })
    writeFileSync(join(root, 'node_modules', 'vitest', 'package.json'), '{"name":"vitest","version":"5.1.2","exports":{"./package.json":"./package.json"}}')
    expect(detectVitestMajor(root)).toBe(5)
  })

  it('this repository runs Vitest 4', () => {
    expect(detectVitestMajor(resolve(import.meta.dirname, '..'))).toBe(4)
  })
})
