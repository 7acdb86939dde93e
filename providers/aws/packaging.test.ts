import { describe, expect, it } from 'vitest'
import { npmInstallArgs, pipInstallArgs, pipPlatformTags } from './packaging.ts'

describe('pip platform selection', () => {
  it('python3.11 (Amazon Linux 2, glibc 2.26) accepts manylinux_2_26 down to manylinux2014', () => {
    const tags = pipPlatformTags('python3.11', 'x64')
    expect(tags).toEqual([...[26, 25, 24, 23, 22, 21, 20, 19, 18, 17].map((m) => `manylinux_2_${m}_x86_64`), 'manylinux2014_x86_64'])
    expect(tags.some((t) => t.startsWith('manylinux_2_28'))).toBe(false)
    expect(pipPlatformTags('python3.10', 'arm64')[0]).toBe('manylinux_2_26_aarch64')
    const args = pipInstallArgs('python3.11', 'x64')
    expect(args.filter((_, i) => args[i - 1] === '--platform')).toEqual(tags)
    expect(args).toContain('--only-binary=:all:')
    expect(args.join(' ')).toContain('--python-version 3.11')
    expect(args.join(' ')).toContain('--implementation cp')
  })

  it('python3.12+ (Amazon Linux 2023, glibc 2.34) accepts every manylinux_2_N from 2_34 down, newest first', () => {
    for (const rt of ['python3.12', 'python3.13', 'python3.14']) {
      const tags = pipPlatformTags(rt, 'x64')
      // pip does not expand manylinux_2_34 to the tags below it: each is listed (2_31, 2_27, 2_24 wheels exist).
      for (const m of [34, 31, 28, 27, 24, 17]) expect(tags).toContain(`manylinux_2_${m}_x86_64`)
      expect(tags.at(-1)).toBe('manylinux2014_x86_64')
      // Newer glibc tags first: pip prefers platforms in the order given.
      expect(tags.indexOf('manylinux_2_31_x86_64')).toBeLessThan(tags.indexOf('manylinux_2_28_x86_64'))
      expect(tags).toHaveLength(34 - 17 + 2)
    }
    expect(pipPlatformTags('python3.12', 'arm64').slice(0, 3)).toEqual(['manylinux_2_34_aarch64', 'manylinux_2_33_aarch64', 'manylinux_2_32_aarch64'])
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
