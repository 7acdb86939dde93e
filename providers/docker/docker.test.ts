/**
 * Pure parts of the Docker support: which official image matches a runtime,
 * how host pip settings become a build container's environment and mounts.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { shellQuote } from './base-image.ts'
import { localPathsIn, pipConfigToEnv } from './build-image.ts'
import { baseImageHint, officialImage } from './images.ts'

describe('officialImage', () => {
  it('maps runtime versions to the slim official images', () => {
    expect(officialImage('python', 'python3.11.7')).toBe('python:3.11-slim')
    expect(officialImage('nodejs', 'node20.20.2')).toBe('node:20-slim')
  })
  it('refuses a version it cannot read', () => {
    expect(() => officialImage('python', 'python')).toThrow(/cannot tell the version/)
  })
})

describe('baseImageHint', () => {
  it('names the exact command', () => {
    expect(baseImageHint('python', '/usr/bin/python3')).toBe('Build the offline base image with `npx sebs docker base --language python --python /usr/bin/python3`')
    expect(baseImageHint()).toBe('Build the offline base image with `npx sebs docker base`')
  })
})

describe('pipConfigToEnv', () => {
  it('turns `pip config list` into PIP_* variables, install.* over global.*', () => {
    const listing = [
      ":env:.find-links='/opt/wheels'",
      "global.extra-index-url='file:///opt/pypi/simple file:///opt/pypi-more/simple'",
      "global.timeout='60'",
      "install.timeout='120'",
      'global.no-cache-dir="true"',
      'not a setting',
    ].join('\n')
    expect(pipConfigToEnv(listing)).toEqual({
      PIP_EXTRA_INDEX_URL: 'file:///opt/pypi/simple file:///opt/pypi-more/simple',
      PIP_TIMEOUT: '120',
      PIP_NO_CACHE_DIR: 'true',
    })
  })
})

describe('localPathsIn', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sebs-paths-'))
    await mkdir(join(dir, 'pypi', 'simple'), { recursive: true })
    await mkdir(join(dir, 'wheels'), { recursive: true })
    await writeFile(join(dir, 'wheels', 'constraints.txt'), '')
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('finds existing absolute paths and file:// URLs; a simple index brings its parent; inner paths fold into outer ones', () => {
    const paths = localPathsIn([
      `file://${dir}/pypi/simple https://pypi.org/simple`,
      `${dir}/wheels`,
      `${dir}/wheels/constraints.txt`,
      '/definitely/not/here',
      'localhost,127.0.0.1',
    ])
    expect(paths).toEqual([join(dir, 'pypi'), join(dir, 'wheels')])
  })
})

describe('shellQuote', () => {
  it('quotes what the shell would split or expand', () => {
    expect(shellQuote('plain-word_1.2')).toBe('plain-word_1.2')
    expect(shellQuote("import a; print('x')")).toBe(`'import a; print('\\''x'\\'')'`)
  })
})
