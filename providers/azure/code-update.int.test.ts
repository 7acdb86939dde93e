/**
 * `updateCode` (code-package-size sweeps) on Azure, against the HTTP-level
 * fake ARM and function host with the packages in a real Azurite: the
 * padded zip is uploaded as a package blob, WEBSITE_RUN_FROM_PACKAGE is its
 * read-only SAS URL, the triggers are synced, the host runs the padded
 * package and the next invocation is cold; padding 0 goes back to the
 * deployed blob, and replaced padded blobs are deleted.
 */
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { readdir, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { BlobServiceClient } from '@azure/storage-blob'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadFixtureBenchmark } from '../../test/support/conformance/fixtures.ts'
import { listZip } from '../packaging/code-padding.ts'
import { CODE_PADDING_FILE, type CodePackage, type DeployedFunction, type InvokeResult } from '../types.ts'
import type { AzureFunctionData } from './function-app.ts'
import { PACKAGE_CONTAINER } from './naming.ts'
import { startTestbed, type Testbed } from '../../test/support/azure/testbed.ts'

let tb: Testbed
let pkg: CodePackage
let fn: DeployedFunction
let worker: DeployedFunction
let data: AzureFunctionData

beforeAll(async () => {
  tb = await startTestbed({ options: { plan: 'consumption' } })
  const benchmark = await loadFixtureBenchmark('901.echo')
  pkg = await tb.provider.package({ benchmark, language: 'nodejs', arch: 'x64' }, tb.buildContext)
  fn = await tb.provider.deploy(pkg, { runId: tb.runId, memory: 128, timeout: 2, trigger: 'http', env: {} })
  data = fn.handle.data as unknown as AzureFunctionData
  // Bench workers connect from a cloned handle.
  worker = tb.provider.connect(structuredClone(fn.handle))
}, 300_000)

afterAll(async () => {
  await tb?.close()
}, 60_000)

function isCold(r: InvokeResult): boolean {
  if (r.state !== 'ok') throw new Error(`expected ok, got ${r.state}: ${'error' in r ? r.error : ''}`)
  return r.envelope.isCold
}

function settings(): Record<string, string> {
  return tb.fake.apps.get(data.appName)!.settings
}

/** The zip WEBSITE_RUN_FROM_PACKAGE serves now, and the blob it names. */
async function runningPackage(): Promise<{ blob: string; zip: Buffer; entries: Map<string, number> }> {
  const url = new URL(settings().WEBSITE_RUN_FROM_PACKAGE!)
  expect(url.searchParams.get('sp')).toBe('r')
  const res = await fetch(url)
  expect(res.status).toBe(200)
  const zip = Buffer.from(await res.arrayBuffer())
  const file = join(tb.workDir, `served-${Date.now()}.zip`)
  await writeFile(file, zip)
  try {
    return { blob: decodeURIComponent(url.pathname.split('/').at(-1)!), zip, entries: await listZip(file) }
  } finally {
    await rm(file, { force: true })
  }
}

async function packageBlobs(): Promise<string[]> {
  const container = BlobServiceClient.fromConnectionString(tb.azurite.connectionString).getContainerClient(PACKAGE_CONTAINER)
  const names: string[] = []
  for await (const b of container.listBlobsFlat()) names.push(b.name)
  return names.sort()
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')
const syncs = () => tb.fake.calls.filter((c) => c.path.toLowerCase().endsWith('/syncfunctiontriggers')).length

describe('updateCode on Azure Functions (nodejs 901.echo)', () => {
  it('runs a padded package blob from a read-only SAS URL, synced, cold first and then warm', async () => {
    expect(data.packagePath).toBe(pkg.path)
    expect(isCold(await worker.invoke({ message: 'a' }))).toBe(true)
    expect(isCold(await worker.invoke({ message: 'b' }))).toBe(false)
    const counter = Number(settings().SEBS_COLD_START)
    const synced = syncs()

    const result = await worker.updateCode!({ paddingBytes: 1_500_000 })
    const running = await runningPackage()
    expect(running.blob).toMatch(new RegExp(`^${data.packageBlob.replace(/\.zip$/, '').replace(/\./g, '\\.')}-padding-1500000-[0-9a-f]{8}\\.zip$`))
    expect(running.entries.get(CODE_PADDING_FILE)).toBe(1_500_000)
    const original = await listZip(pkg.path)
    running.entries.delete(CODE_PADDING_FILE)
    expect(running.entries).toEqual(original)
    expect(result).toEqual({ paddingBytes: 1_500_000, packageSizeBytes: running.zip.length })
    expect(Number(settings().SEBS_COLD_START)).toBe(counter + 1)
    expect(syncs()).toBe(synced + 1)

    const after = await worker.invoke({ message: 'c' })
    expect(isCold(after)).toBe(true)
    expect(after.state === 'ok' && after.envelope.result).toMatchObject({ echo: { message: 'c' } })
    expect(isCold(await worker.invoke({ message: 'd' }))).toBe(false)
    // The host runs from the padded package.
    const codeDir = tb.fake.apps.get(data.appName)!.instance!.codeDir
    expect((await stat(join(codeDir, CODE_PADDING_FILE))).size).toBe(1_500_000)
  })

  it('a new padding replaces the previous padded blob, which is deleted', async () => {
    const before = (await runningPackage()).blob
    await worker.updateCode!({ paddingBytes: 10_000 })
    const now = await runningPackage()
    expect(now.entries.get(CODE_PADDING_FILE)).toBe(10_000)
    expect(await packageBlobs()).toEqual([data.packageBlob, now.blob].sort())
    expect(await packageBlobs()).not.toContain(before)
    expect(isCold(await worker.invoke({ message: 'e' }))).toBe(true)
  })

  it('padding 0 goes back to the deployed blob (the same zip); no padded blob is left', async () => {
    const result = await worker.updateCode!({ paddingBytes: 0 })
    const running = await runningPackage()
    expect(running.blob).toBe(data.packageBlob)
    expect(sha(running.zip)).toBe(sha(readFileSync(pkg.path)))
    expect(result).toEqual({ paddingBytes: 0, packageSizeBytes: pkg.sizeBytes })
    expect(await packageBlobs()).toEqual([data.packageBlob])
    expect(isCold(await worker.invoke({ message: 'f' }))).toBe(true)
    const codeDir = tb.fake.apps.get(data.appName)!.instance!.codeDir
    expect(existsSync(join(codeDir, CODE_PADDING_FILE))).toBe(false)
  })

  it('leaves no padded zip on disk; refuses bad sizes and handles without a package', async () => {
    const tmp = join(tb.workDir, 'cache', 'tmp', 'azure')
    expect(existsSync(tmp) ? await readdir(tmp) : []).toEqual([])
    await expect(worker.updateCode!({ paddingBytes: 2 ** 40 })).rejects.toThrow(/\[azure\] code padding/)
    const { packagePath: _p, ...rest } = fn.handle.data
    const old = tb.provider.connect({ ...structuredClone(fn.handle), data: rest })
    await expect(old.updateCode!({ paddingBytes: 10 })).rejects.toMatchObject({ code: 'NOT_SUPPORTED', message: expect.stringMatching(/^\[azure\] Cannot change the code package/) })
  })
})
