/**
 * Test fixtures built on the fly: minimal wheels with chosen platform tags
 * (the local pip index has x86_64 wheels only, so arm64 and manylinux
 * selection are checked against these), and small benchmark directories.
 */
import { createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import yazl from 'yazl'
import type { BenchmarkDefinition, Language } from '../../../core/types.ts'

function recordHash(data: Buffer): string {
  return 'sha256=' + createHash('sha256').update(data).digest('base64').replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_')
}

/**
 * Writes `<name>-<version>-<pyTag>-<abiTag>-<platform>.whl` into `dir`: a
 * package `<name>` whose `__init__.py` says which wheel it came from
 * (`WHEEL_TAG`), with METADATA, WHEEL and RECORD as pip expects them.
 */
export async function writeWheel(
  dir: string,
  opts: { name: string; version: string; pyTag: string; abiTag: string; platform: string },
): Promise<string> {
  const tag = `${opts.pyTag}-${opts.abiTag}-${opts.platform}`
  const distInfo = `${opts.name}-${opts.version}.dist-info`
  const files: Array<[string, Buffer]> = [
    [`${opts.name}/__init__.py`, Buffer.from(`WHEEL_TAG = ${JSON.stringify(tag)}\n`)],
    [`${distInfo}/METADATA`, Buffer.from(`Metadata-Version: 2.1\nName: ${opts.name}\nVersion: ${opts.version}\n\n`)],
    [
      `${distInfo}/WHEEL`,
      Buffer.from(
        `Wheel-Version: 1.0\nGenerator: sebs-test\nRoot-Is-Purelib: false\n` +
          opts.platform
            .split('.')
            .map((p) => `Tag: ${opts.pyTag}-${opts.abiTag}-${p}\n`)
            .join(''),
      ),
    ],
  ]
  const record = files.map(([p, d]) => `${p},${recordHash(d)},${d.length}`).join('\n') + `\n${distInfo}/RECORD,,\n`
  files.push([`${distInfo}/RECORD`, Buffer.from(record)])
  await mkdir(dir, { recursive: true })
  const path = join(dir, `${opts.name}-${opts.version}-${tag}.whl`)
  const zip = new yazl.ZipFile()
  for (const [p, d] of files) zip.addBuffer(d, p)
  zip.end()
  await pipeline(zip.outputStream, createWriteStream(path))
  return path
}

/** A benchmark directory with the given files per language; returns its definition. */
export async function writeBenchmark(
  root: string,
  id: string,
  files: Partial<Record<Language, Record<string, string>>>,
  config: { timeout?: number; memory?: number; modules?: Array<'storage' | 'nosql'> } = {},
): Promise<BenchmarkDefinition> {
  const group = `${id.slice(0, 1)}00.fixtures`
  const dir = join(root, group, id)
  const languages = Object.keys(files) as Language[]
  await mkdir(dir, { recursive: true })
  await writeFile(
    join(dir, 'config.json'),
    JSON.stringify({ timeout: config.timeout ?? 10, memory: config.memory ?? 128, languages, modules: config.modules ?? [] }),
  )
  for (const language of languages) {
    for (const [name, text] of Object.entries(files[language] ?? {})) {
      const path = join(dir, language, name)
      await mkdir(join(path, '..'), { recursive: true })
      await writeFile(path, text)
    }
  }
  return {
    id,
    group,
    dir,
    config: { timeout: config.timeout ?? 10, memory: config.memory ?? 128, languages, variants: {}, modules: config.modules ?? [] },
    input: { kind: 'ts', path: join(dir, 'input.ts') },
    source: root,
  }
}
