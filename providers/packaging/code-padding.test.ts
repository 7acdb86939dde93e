import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { chmod, lstat, mkdir, mkdtemp, readdir, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SebsError } from '../../core/errors.ts'
import { CODE_PADDING_FILE } from '../types.ts'
import { checkPaddingBytes, createPaddedDirectory, createPaddedZip, listZip, sweepPaddingTemp, withPaddedZip } from './code-padding.ts'
import { PACKAGE_METADATA_FILE } from './package-builder.ts'
import { zipDirectory } from './zip.ts'

let work: string
let pkg: string
let zip: string

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'pkgsweep-padding-'))
  pkg = join(work, 'pkg')
  await mkdir(join(pkg, 'function', 'lib'), { recursive: true })
  await writeFile(join(pkg, 'handler.py'), 'def handler(e):\n    return e\n')
  await writeFile(join(pkg, 'function', 'lib', 'big.txt'), 'abc'.repeat(10_000))
  await writeFile(join(pkg, 'run.sh'), '#!/bin/sh\necho hi\n')
  await chmod(join(pkg, 'run.sh'), 0o755)
  await symlink('lib/big.txt', join(pkg, 'function', 'link.txt'))
  await writeFile(join(pkg, PACKAGE_METADATA_FILE), '{"hash":"x"}\n')
  zip = join(work, 'pkg.zip')
  await zipDirectory(pkg, zip)
})

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true })
})

describe('createPaddedZip', () => {
  it('keeps every entry with its size and mode and adds the padding, stored (random data does not compress)', async () => {
    const out = join(work, 'padded.zip')
    const { sizeBytes } = await createPaddedZip(zip, out, 300_000)
    const original = await listZip(zip)
    const padded = await listZip(out)
    expect(padded.get(CODE_PADDING_FILE)).toBe(300_000)
    padded.delete(CODE_PADDING_FILE)
    expect(padded).toEqual(original)
    expect(sizeBytes).toBe((await stat(out)).size)
    expect(sizeBytes).toBeGreaterThan((await stat(zip)).size + 300_000)

    // Unzipped by a real unzip, the files, modes and the link come back.
    if (spawnSync('unzip', ['-v']).status === 0) {
      const dir = join(work, 'unzipped')
      expect(spawnSync('unzip', ['-q', out, '-d', dir]).status).toBe(0)
      expect(readFileSync(join(dir, 'function', 'lib', 'big.txt'), 'utf8')).toBe('abc'.repeat(10_000))
      expect((await stat(join(dir, 'run.sh'))).mode & 0o111).not.toBe(0)
      expect(await readlink(join(dir, 'function', 'link.txt'))).toBe('lib/big.txt')
      const padding = readFileSync(join(dir, CODE_PADDING_FILE))
      expect(padding.length).toBe(300_000)
      // Incompressible: gzip cannot shrink it.
      expect(gzipSync(padding).length).toBeGreaterThan(padding.length * 0.99)
    }
  })

  it('padding a padded zip replaces its padding; two paddings differ', async () => {
    const once = join(work, 'once.zip')
    const twice = join(work, 'twice.zip')
    await createPaddedZip(zip, once, 5000)
    await createPaddedZip(once, twice, 100)
    const entries = await listZip(twice)
    expect(entries.get(CODE_PADDING_FILE)).toBe(100)
    expect([...entries.keys()].filter((k) => k === CODE_PADDING_FILE)).toHaveLength(1)
  })

  it('a zip that cannot be read: BUILD_FAILED naming it, and no output left', async () => {
    const bad = join(work, 'bad.zip')
    await writeFile(bad, 'not a zip')
    const out = join(work, 'bad-padded.zip')
    await expect(createPaddedZip(bad, out, 10)).rejects.toMatchObject({ code: 'BUILD_FAILED', message: expect.stringContaining(bad) })
    expect(existsSync(out)).toBe(false)
  })
})

describe('createPaddedDirectory', () => {
  it('hard-links the package (nothing copied or changed in the cache) and adds the padding', async () => {
    const dest = join(work, 'padded-dir')
    const { sizeBytes } = await createPaddedDirectory(pkg, dest, 70_000)
    expect((await stat(join(dest, CODE_PADDING_FILE))).size).toBe(70_000)
    expect((await stat(join(dest, 'handler.py'))).ino).toBe((await stat(join(pkg, 'handler.py'))).ino)
    expect((await lstat(join(dest, 'function', 'link.txt'))).isSymbolicLink()).toBe(true)
    expect(await readlink(join(dest, 'function', 'link.txt'))).toBe('lib/big.txt')
    // The copy is not a cache entry, and the cache entry gets no padding.
    expect(existsSync(join(dest, PACKAGE_METADATA_FILE))).toBe(false)
    expect(existsSync(join(pkg, CODE_PADDING_FILE))).toBe(false)
    expect(sizeBytes).toBe(70_000 + 10 * 3000 + (await stat(join(pkg, 'handler.py'))).size + (await stat(join(pkg, 'run.sh'))).size)
  })
})

describe('temp dirs', () => {
  it('withPaddedZip removes its temp dir, also when the use fails', async () => {
    const root = join(work, 'tmp-root')
    let seen = ''
    await withPaddedZip(zip, 10, root, async (z) => {
      seen = z.path
      expect((await listZip(z.path)).get(CODE_PADDING_FILE)).toBe(10)
    })
    expect(existsSync(seen)).toBe(false)
    await expect(
      withPaddedZip(zip, 10, root, async () => {
        throw new Error('upload failed')
      }),
    ).rejects.toThrow('upload failed')
    expect(await readdir(root)).toEqual([])
  })

  it('sweepPaddingTemp removes the dirs of dead processes only', async () => {
    const root = join(work, 'sweep-root')
    // pid 2^22+1 is above Linux's pid_max default: never a live process.
    await mkdir(join(root, 'padding-4194305-abc'), { recursive: true })
    await mkdir(join(root, `padding-${process.pid}-def`), { recursive: true })
    await mkdir(join(root, 'other'), { recursive: true })
    const removed = await sweepPaddingTemp(root)
    expect(removed).toEqual([join(root, 'padding-4194305-abc')])
    expect((await readdir(root)).sort()).toEqual(['other', `padding-${process.pid}-def`])
  })
})

describe('checkPaddingBytes', () => {
  it.each([-1, 1.5, Number.NaN, 2 ** 40])('refuses %s', (bytes) => {
    expect(() => checkPaddingBytes('aws', bytes)).toThrow(SebsError)
    expect(() => checkPaddingBytes('aws', bytes)).toThrow(/\[aws\] code padding/)
  })
  it('accepts 0 and whole byte counts', () => {
    expect(() => checkPaddingBytes('local', 0)).not.toThrow()
    expect(() => checkPaddingBytes('local', 1_048_576)).not.toThrow()
  })
})
