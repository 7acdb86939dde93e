/**
 * The bench workers' interruption check (engine/interrupt.ts): it sees the
 * main process's marker file, looks at most every INTERRUPTION_CHECK_MS and
 * stays true once it saw it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, expect, it } from 'vitest'
import { INTERRUPTED_FILE, INTERRUPTION_CHECK_MS, interruptionCheck, runInterruptedBy } from './interrupt.ts'

const dirs: string[] = []
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })))

it('sees the marker on the first look after it appears, looks at most every INTERRUPTION_CHECK_MS, and stays interrupted', () => {
  const runDir = mkdtempSync(join(tmpdir(), 'sebs-interrupt-'))
  dirs.push(runDir)
  let clock = 1000
  const interrupted = interruptionCheck(runDir, () => clock)
  expect(interrupted()).toBe(false)
  writeFileSync(join(runDir, INTERRUPTED_FILE), 'SIGINT')
  // Within the interval the marker is not looked for yet.
  clock += INTERRUPTION_CHECK_MS - 1
  expect(interrupted()).toBe(false)
  clock += 1
  expect(interrupted()).toBe(true)
  rmSync(join(runDir, INTERRUPTED_FILE))
  expect(interrupted()).toBe(true)
})

it('names the signal the main process wrote', () => {
  const runDir = mkdtempSync(join(tmpdir(), 'sebs-interrupt-'))
  dirs.push(runDir)
  expect(runInterruptedBy(runDir)).toBeUndefined()
  writeFileSync(join(runDir, INTERRUPTED_FILE), 'SIGTERM\n')
  expect(runInterruptedBy(runDir)).toBe('SIGTERM')
})
