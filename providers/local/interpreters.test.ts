/**
 * The interpreter probe (providers/local/interpreters.ts, test process):
 * prepareInterpreters starts it in the background, a later resolveInterpreter
 * gets the same answer without starting the interpreter again, and a failed
 * probe is reported when asked, not cached and not thrown in the background.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, expect, it } from 'vitest'
import { prepareInterpreters, resolveInterpreter } from './interpreters.ts'

const dirs: string[] = []
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })))

/** A stand-in `python` that counts its starts and answers like the probe expects (or fails). */
function fakePython(answer: 'ok' | 'fail'): { command: string; starts: () => number } {
  const dir = mkdtempSync(join(tmpdir(), 'sebs-interp-'))
  dirs.push(dir)
  const log = join(dir, 'starts')
  writeFileSync(log, '')
  const command = join(dir, 'python')
  writeFileSync(command, answer === 'ok' ? `#!/bin/sh\necho x >> ${log}\necho /opt/py/bin/python3.11\necho 3.11.7\n` : `#!/bin/sh\necho x >> ${log}\necho 'no such module' >&2\nexit 1\n`)
  chmodSync(command, 0o755)
  return { command, starts: () => readFileSync(log, 'utf8').split('\n').filter(Boolean).length }
}

it('a probe started by prepareInterpreters answers the setup later: the interpreter starts once', async () => {
  const py = fakePython('ok')
  prepareInterpreters({ python: py.command, node: process.execPath }, ['python', 'nodejs', 'python'])
  const first = await resolveInterpreter('python', py.command)
  const second = await resolveInterpreter('python', py.command)
  expect(first).toEqual({ executable: '/opt/py/bin/python3.11', version: 'python3.11.7' })
  expect(second).toEqual(first)
  expect(py.starts()).toBe(1)
  // The executable it named answers for itself without a process (deploy asks with it).
  expect(await resolveInterpreter('python', '/opt/py/bin/python3.11')).toEqual(first)
  expect(py.starts()).toBe(1)
  // The harness's own node is known without a process.
  expect(await resolveInterpreter('nodejs', process.execPath)).toEqual({ executable: process.execPath, version: `node${process.versions.node}` })
})

it('a failed background probe is reported when the setup asks (TOOL_MISSING), and asked again then', async () => {
  const py = fakePython('fail')
  prepareInterpreters({ python: py.command, node: process.execPath }, ['python'])
  await expect.poll(py.starts).toBe(1)
  // The setup's question gets the failure (the background probe's, or its own), with the fix.
  const tooMissing = { code: 'TOOL_MISSING', message: expect.stringContaining(`cannot run the python interpreter '${py.command}'`) }
  await expect(resolveInterpreter('python', py.command)).rejects.toMatchObject(tooMissing)
  // Not cached: the next question starts the interpreter again (the user may have fixed it).
  const starts = py.starts()
  await expect(resolveInterpreter('python', py.command)).rejects.toMatchObject(tooMissing)
  expect(py.starts()).toBe(starts + 1)
})
