/**
 * Tests of ffmpeg.mjs (runs in a Vitest worker): the host lookup order and the
 * static ffmpeg that 220's init.sh puts into code packages for each architecture.
 * The arm64 case fetches the pinned package with the npm client (as a build does).
 */
import { execFileSync } from 'node:child_process'
import { mkdtemp, open, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bundledFfmpeg, FfmpegNotFoundError, findFfmpeg, installFfmpeg } from './ffmpeg.mjs'

let root: string
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'sebs-ffmpeg-test-'))
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

/** ELF e_machine: 62 = x86-64, 183 = AArch64. */
async function elfMachine(path: string): Promise<number> {
  const fh = await open(path, 'r')
  try {
    const buf = Buffer.alloc(20)
    await fh.read(buf, 0, 20, 0)
    expect(buf.subarray(0, 4).toString('latin1')).toBe('\x7fELF')
    return buf.readUInt16LE(18)
  } finally {
    await fh.close()
  }
}

describe('findFfmpeg', () => {
  it('prefers SEBS_FFMPEG, then PATH, then the npm package', () => {
    const bundled = bundledFfmpeg()
    expect(bundled).toMatch(/@ffmpeg-installer[/\\]linux-x64[/\\]ffmpeg$/)
    expect(findFfmpeg({ PATH: join(root, 'empty-bin') })).toBe(bundled)
    expect(findFfmpeg({ PATH: '/usr/bin', SEBS_FFMPEG: bundled })).toBe(bundled)
    if (process.env.PATH?.split(':').includes('/usr/bin')) {
      // Where the system has one (CI installs Debian's), PATH wins over the npm package.
      try {
        execFileSync('/usr/bin/ffmpeg', ['-version'])
        expect(findFfmpeg({ PATH: '/usr/bin' })).toBe('/usr/bin/ffmpeg')
      } catch {
        // no system ffmpeg here
      }
    }
    expect(() => findFfmpeg({ PATH: '', SEBS_FFMPEG: join(root, 'missing') })).toThrow(FfmpegNotFoundError)
  })

  it('the static build runs here', () => {
    const out = execFileSync(bundledFfmpeg()!, ['-hide_banner', '-version'], { encoding: 'utf8' })
    expect(out).toMatch(/^ffmpeg version/)
  })
})

describe('installFfmpeg (what init.sh puts into a code package)', () => {
  it('places the host-architecture build at function/ffmpeg/ffmpeg', async () => {
    const fn = join(root, 'x64-fn')
    const { path } = installFfmpeg(fn, 'x64')
    expect(path).toBe(join(fn, 'ffmpeg', 'ffmpeg'))
    expect(await elfMachine(path)).toBe(62)
    expect((await stat(path)).mode & 0o111).toBe(0o111)
  })

  it('fetches the arm64 build with npm for an arm64 package', async () => {
    const fn = join(root, 'arm64-fn')
    const { path } = installFfmpeg(fn, 'arm64')
    expect(await elfMachine(path)).toBe(183)
    expect((await stat(path)).size).toBeGreaterThan(10_000_000)
  }, 180_000)

  it('refuses an unknown architecture by name', () => {
    expect(() => installFfmpeg(join(root, 'x'), 'riscv64')).toThrow(/no ffmpeg package for architecture 'riscv64' \(known: x64, arm64\)/)
  })
})
