import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { applyMemoryLimit, cgroupName, memoryLimitMessage, ownMemoryCgroup, readMemoryLimitOutcome } from './limits.ts'

// A mount without the memory controller: every request falls back past the cgroup.
const NO_CGROUP = join(tmpdir(), 'sebs-no-such-cgroup-mount')

describe('applyMemoryLimit without a usable cgroup', () => {
  it('Python gets an address-space limit (ulimit -v in KB), enforced', () => {
    const r = applyMemoryLimit({ memoryMb: 128, language: 'python', instanceName: 'f-1', cgroupMount: NO_CGROUP }, '/usr/bin/python3', ['-u', 'server.py'])
    expect(r.limit).toMatchObject({ mechanism: 'rlimit-as', enforced: true, memoryMb: 128 })
    expect(r.limit.note).toMatch(/no cgroup/)
    expect(r.command).toBe('/bin/sh')
    expect(r.args).toEqual(['-c', 'ulimit -v "$0" && exec "$@"', String(128 * 1024), '/usr/bin/python3', '-u', 'server.py'])
    expect(r.env).toEqual({ SEBS_MEMORY_LIMIT_MB: '128', SEBS_MEMORY_LIMIT_MECHANISM: 'rlimit-as', SEBS_MEMORY_ENFORCED: '1' })
  })

  it("Node.js gets V8's heap limit, reported as not enforced (Buffers and native memory are not bounded)", () => {
    const r = applyMemoryLimit({ memoryMb: 256, language: 'nodejs', instanceName: 'f-2', cgroupMount: NO_CGROUP }, '/usr/bin/node', ['server.js'])
    expect(r.limit).toMatchObject({ mechanism: 'node-heap', enforced: false })
    expect(r.command).toBe('/usr/bin/node')
    expect(r.args).toEqual(['--max-old-space-size=256', 'server.js'])
    expect(r.env.SEBS_MEMORY_ENFORCED).toBe('0')
  })

  it('no memory, or limits off: the command is unchanged and nothing is enforced', () => {
    expect(applyMemoryLimit({ language: 'python', instanceName: 'x' }, 'py', ['a'])).toEqual({ command: 'py', args: ['a'], env: {}, limit: { mechanism: 'none', enforced: false } })
    const off = applyMemoryLimit({ memoryMb: 128, language: 'nodejs', instanceName: 'x', mode: 'off' }, 'node', ['s.js'])
    expect(off.limit).toMatchObject({ mechanism: 'none', enforced: false, memoryMb: 128 })
    expect(off.args).toEqual(['s.js'])
  })
})

describe('helpers', () => {
  it('cgroup names are one safe path segment with the suite prefix', () => {
    expect(cgroupName('run/1 fn:x')).toBe('sebs-run_1_fn_x')
  })
  it('reads the memory controller line of /proc/self/cgroup', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'sebs-cg-')), 'cgroup')
    writeFileSync(file, '9:name=systemd:/\n4:memory:/process_api/abc\n3:cpuset:/\n')
    expect(ownMemoryCgroup(file)).toBe('/process_api/abc')
    writeFileSync(file, '0::/user.slice\n')
    expect(ownMemoryCgroup(file)).toBeUndefined()
  })
  it('only an OOM kill in the cgroup produces the memory message', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sebs-cgfake-'))
    writeFileSync(join(dir, 'memory.oom_control'), 'oom_kill_disable 0\nunder_oom 0\noom_kill 1\n')
    writeFileSync(join(dir, 'memory.failcnt'), '12\n')
    const limit = { memoryMb: 64, mechanism: 'cgroup' as const, enforced: true, cgroupDir: dir }
    const outcome = readMemoryLimitOutcome(limit)
    expect(outcome).toMatchObject({ oomKilled: true, failCount: 12 })
    expect(memoryLimitMessage(limit, outcome)).toMatch(/memory limit exceeded: .*64 MB.*cgroup memory limit/)
    writeFileSync(join(dir, 'memory.oom_control'), 'oom_kill_disable 0\nunder_oom 0\noom_kill 0\n')
    expect(memoryLimitMessage(limit, readMemoryLimitOutcome(limit))).toBeUndefined()
  })
})
