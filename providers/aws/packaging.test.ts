import { describe, expect, it } from 'vitest'
import { npmInstallArgs, pipInstallArgs, pipPlatformTags } from './packaging.ts'

describe('pip platform selection', () => {
  it('python3.11 (Amazon Linux 2) accepts manylinux2014 only', () => {
    expect(pipPlatformTags('python3.11', 'x64')).toEqual(['manylinux2014_x86_64'])
    expect(pipPlatformTags('python3.10', 'arm64')).toEqual(['manylinux2014_aarch64'])
    const args = pipInstallArgs('python3.11', 'x64')
    expect(args.filter((_, i) => args[i - 1] === '--platform')).toEqual(['manylinux2014_x86_64'])
    expect(args).toContain('--only-binary=:all:')
    expect(args.join(' ')).toContain('--python-version 3.11')
    expect(args.join(' ')).toContain('--implementation cp')
  })

  it('python3.12+ (Amazon Linux 2023) accepts manylinux_2_28 and manylinux2014 too', () => {
    for (const rt of ['python3.12', 'python3.13']) {
      const tags = pipPlatformTags(rt, 'x64')
      expect(tags).toContain('manylinux_2_28_x86_64')
      expect(tags).toContain('manylinux2014_x86_64')
      // Newer glibc tags first: pip prefers platforms in the order given.
      expect(tags.indexOf('manylinux_2_28_x86_64')).toBeLessThan(tags.indexOf('manylinux2014_x86_64'))
    }
    expect(pipPlatformTags('python3.12', 'arm64')).toEqual(['manylinux_2_34_aarch64', 'manylinux_2_28_aarch64', 'manylinux2014_aarch64'])
    expect(pipInstallArgs('python3.12', 'arm64').join(' ')).toContain('--python-version 3.12')
  })

  it('npm installs for linux/glibc on the chosen CPU', () => {
    expect(npmInstallArgs('x64')).toEqual(['--os=linux', '--cpu=x64', '--libc=glibc', '--no-bin-links'])
    expect(npmInstallArgs('arm64')).toEqual(['--os=linux', '--cpu=arm64', '--libc=glibc', '--no-bin-links'])
  })

  it('rejects a runtime that is not python3.N', () => {
    expect(() => pipPlatformTags('python2.7', 'x64')).toThrow(/python3\.N/)
  })
})
