/**
 * Pure parts of the docker runtime: exit statuses, container names, cgroup
 * discovery, and the local provider's docker options.
 */
import { describe, expect, it } from 'vitest'
import { createLogger } from '../../../core/logger.ts'
import { LocalProvider } from '../local-provider.ts'
import { cgroupMounts, processMemoryCgroup } from './cgroup-memory.ts'
import { containerName, exitStatusOf } from './docker-instance.ts'

describe('exitStatusOf', () => {
  it('reads codes above 128 as the signal tini reports', () => {
    expect(exitStatusOf(137)).toEqual({ code: null, signal: 'SIGKILL' })
    expect(exitStatusOf(143)).toEqual({ code: null, signal: 'SIGTERM' })
    expect(exitStatusOf(3)).toEqual({ code: 3, signal: null })
    expect(exitStatusOf(0)).toEqual({ code: 0, signal: null })
    expect(exitStatusOf(undefined)).toEqual({ code: null, signal: null })
  })
})

describe('containerName', () => {
  it('keeps what Docker allows and appends the instance id', () => {
    expect(containerName('sebs-run_1-901.echo-python', 'ab12cd34')).toBe('sebs-run_1-901.echo-python-ab12cd34')
    expect(containerName('--weird name/with:chars', 'ab12cd34')).toBe('weird_name_with_chars-ab12cd34')
    expect(containerName('x'.repeat(300), '00').length).toBeLessThan(200)
  })
})

const MOUNTINFO_V1 = [
  '25 30 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755',
  '31 25 0:27 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,memory',
  '32 25 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct',
].join('\n')
const MOUNTINFO_V2 = '30 24 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate'

describe('cgroup discovery', () => {
  it('finds the v1 memory controller and the v2 hierarchy in mountinfo', () => {
    expect(cgroupMounts(MOUNTINFO_V1)).toEqual({ v1Memory: '/sys/fs/cgroup/memory' })
    expect(cgroupMounts(MOUNTINFO_V2)).toEqual({ v2: '/sys/fs/cgroup' })
  })

  it("maps a container process's /proc/<pid>/cgroup to its memory cgroup directory", () => {
    const v1 = ['12:pids:/docker/abc', '9:memory:/docker/abc', '0::/'].join('\n')
    expect(processMemoryCgroup(1, { procCgroup: v1, mounts: cgroupMounts(MOUNTINFO_V1) })).toEqual({
      version: 1,
      dir: '/sys/fs/cgroup/memory/docker/abc',
    })
    expect(processMemoryCgroup(1, { procCgroup: '0::/system.slice/docker-abc.scope', mounts: cgroupMounts(MOUNTINFO_V2) })).toEqual({
      version: 2,
      dir: '/sys/fs/cgroup/system.slice/docker-abc.scope',
    })
    expect(processMemoryCgroup(1, { procCgroup: '', mounts: {} })).toBeUndefined()
  })
})

describe('local provider docker options', () => {
  const logger = createLogger('sebs', { quiet: true })
  const make = (options: Record<string, unknown>) => () => new LocalProvider({ runId: 'r', cacheDir: '/tmp/unused', logger, options })

  it('accepts the runtime switch and docker settings', () => {
    expect(make({ runtime: 'docker', docker: { cpus: 0.5, tmpSizeMb: 256, pull: false, images: { python: 'python:3.11-slim' } } })).not.toThrow()
    expect(make({ runtime: 'process' })).not.toThrow()
  })

  it('refuses unknown runtimes and bad docker settings, naming the option', () => {
    expect(make({ runtime: 'vm' })).toThrow(/'runtime'/)
    expect(make({ docker: { cpus: 0 } })).toThrow(/'docker\.cpus'/)
    expect(make({ docker: { images: { java: 'x' } } })).toThrow(/docker\.images/)
    expect(make({ docker: { memory: 1 } })).toThrow(/docker/)
  })
})
