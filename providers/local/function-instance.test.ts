/**
 * formatExit and withStderrTail (test process): the one wording of how a
 * local instance ended or failed to start, for processes and containers
 * alike; and that only start-instance.ts names the runtime classes.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { formatExit, withStderrTail } from './function-instance.ts'

describe('formatExit', () => {
  it('says the exit code, or the signal when one ended the instance', () => {
    expect(formatExit({ code: 3, signal: null })).toBe('exited with code 3')
    expect(formatExit({ code: 0, signal: null })).toBe('exited with code 0')
    expect(formatExit({ code: null, signal: 'SIGKILL' })).toBe('was killed by SIGKILL')
    expect(formatExit({ code: null, signal: null })).toBe('exited with code null')
  })

  it('adds the OOM kill, with the limit when it is known', () => {
    expect(formatExit({ code: null, signal: 'SIGKILL', oomKilled: true }, 128)).toBe('was killed by SIGKILL (out of memory: over its 128 MB limit, OOMKilled)')
    expect(formatExit({ code: 137, signal: null, oomKilled: true })).toBe('exited with code 137 (out of memory, OOMKilled)')
    expect(formatExit({ code: 3, signal: null, oomKilled: false }, 128)).toBe('exited with code 3')
  })
})

describe('withStderrTail', () => {
  it("appends the end of the instance's stderr, trimmed, or says there was none", () => {
    expect(withStderrTail('the instance of f exited with code 1 before it was ready', '\nTraceback …\nImportError: x\n\n')).toBe(
      'the instance of f exited with code 1 before it was ready; its stderr ends with:\nTraceback …\nImportError: x',
    )
    expect(withStderrTail('the container of f was killed by SIGKILL before it was ready', ' \n')).toBe(
      'the container of f was killed by SIGKILL before it was ready (no stderr output)',
    )
  })
})

describe('the runtime classes', () => {
  it('are named only by start-instance.ts: the pool, the provider and the sweep see FunctionInstance', () => {
    for (const file of ['local-function.ts', 'local-provider.ts', 'connect.ts', 'sweep.ts']) {
      const source = readFileSync(new URL(`./${file}`, import.meta.url), 'utf8')
      expect(source, file).not.toMatch(/\b(LocalInstance|DockerInstance)\b/)
    }
    expect(readFileSync(new URL('./start-instance.ts', import.meta.url), 'utf8')).toMatch(/LocalInstance[\s\S]*DockerInstance/)
  })
})
