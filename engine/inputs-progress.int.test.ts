/**
 * Integration test (real s3rver on loopback): a benchmark whose generator is
 * slow shows progress through every part of its input preparation: its own
 * sub-steps (ctx.task) announced, beating with their latest detail, closed
 * with their duration; the step as a whole beating while it uploads; and a
 * final line that times the upload apart from the generation.
 */
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { BenchmarkInputModule } from '../core/benchmark-input.ts'
import { createLogger } from '../core/logger.ts'
import type { BenchmarkDefinition } from '../core/types.ts'
import type { ObjectStorage } from '../providers/types.ts'
import { createS3Storage } from '../providers/storage/s3-storage.ts'
import { startS3rver, type RunningS3rver } from '../providers/storage/s3rver-server.ts'
import { prepareBenchmarkInputs } from './inputs.ts'

let work: string
let s3: RunningS3rver
let storage: ObjectStorage

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sebs-inputs-progress-'))
  s3 = await startS3rver({ directory: join(work, 's3') })
  storage = createS3Storage({ kind: 's3', endpoint: s3.endpoint, bucket: 'sebs-progress', accessKey: s3.accessKey, secretKey: s3.secretKey, region: 'us-east-1' })
  await storage.ensureBucket('sebs-progress')
})
afterAll(async () => {
  await storage?.close()
  await s3?.close()
  await rm(work, { recursive: true, force: true })
})

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const bench = {
  id: '999.slow-inputs',
  group: '900.fixtures',
  dir: '/nonexistent',
  input: { kind: 'ts', path: '/nonexistent/input.ts' },
} as unknown as BenchmarkDefinition

/** A generator that installs a "tool" (with pip-like output) and renders a model slowly, then uploads it. */
const slowModule: BenchmarkInputModule = {
  bucketsCount: () => [1, 0],
  async generateInput(ctx) {
    const file = join(ctx.dataDir, 'model.bin')
    // Generated once, as real generators do (ensureFile): a second run only checks the upload cache.
    if (existsSync(file)) {
      await ctx.upload(0, 'model.bin', file)
      return { key: 'model.bin' }
    }
    await ctx.task!('installing the generator tools', async (update) => {
      update('Collecting torch==2.5.1')
      await sleep(250)
      update('Downloading torch-2.5.1.whl (180.2 MB)')
      await sleep(250)
    })
    await ctx.task!('generating the model', async () => {
      await sleep(700)
      await writeFile(file, Buffer.alloc(2_000_000, 7))
    })
    // Work outside any sub-step: the step as a whole beats.
    await sleep(300)
    await ctx.upload(0, 'model.bin', file)
    return { key: 'model.bin' }
  },
}

describe('prepareBenchmarkInputs progress', () => {
  it('announces, beats and times every part of a slow generation', async () => {
    const lines: string[] = []
    const logger = createLogger('sebs', { write: (l) => lines.push(l) })
    const ctx = { dataRoot: join(work, 'data'), cacheDir: join(work, 'cache'), logger, python: 'python3', storageIdentity: 'test', storage, heartbeatMs: 100 }
    await prepareBenchmarkInputs(bench, ['test'], ctx, slowModule)

    const at = (re: RegExp) => lines.findIndex((l) => re.test(l))
    const P = '\\[sebs\\] inputs 999\\.slow-inputs \\(test\\)'
    const installStart = at(new RegExp(`^${P}: installing the generator tools…$`))
    const installBeat = at(new RegExp(`^${P}: installing the generator tools: \\d+ ms, (Collecting torch==2\\.5\\.1|Downloading torch-2\\.5\\.1\\.whl \\(180\\.2 MB\\))$`))
    const installEnd = at(new RegExp(`^${P}: installing the generator tools in \\d+ ms$`))
    const modelStart = at(new RegExp(`^${P}: generating the model…$`))
    const modelEnd = at(new RegExp(`^${P}: generating the model in \\d+ ms$`))
    const outerBeat = at(new RegExp(`^${P}: [\\d.]+ m?s(, uploading 999\\.slow-inputs-0-input/model\\.bin \\(2\\.0 MB\\))?$`))
    const final = at(new RegExp(`^${P}: uploaded 1 object\\(s\\), 2\\.0 MB in \\d+ m?s; generated in [\\d.]+ s$`))
    expect([installStart, installBeat, installEnd, modelStart, modelEnd, outerBeat, final].every((i) => i >= 0), lines.join('\n')).toBe(true)
    expect(installStart < installBeat && installBeat < installEnd && installEnd < modelStart && modelStart < modelEnd && modelEnd < outerBeat && outerBeat < final).toBe(true)
    // Durations belong to their own step: the install's ~500 ms, not the whole generation.
    const installMs = Number(/in (\d+) ms$/.exec(lines[installEnd]!)![1])
    expect(installMs).toBeGreaterThanOrEqual(450)
    expect(installMs).toBeLessThan(Number(/in (\d+) ms$/.exec(lines[modelEnd]!)![1]) + 400)
    // One heartbeat at a time: the whole step is muted while a sub-step beats.
    const between = lines.slice(installStart, installEnd)
    expect(between.some((l) => new RegExp(`^${P}: [\\d.]+ m?s`).test(l)), lines.join('\n')).toBe(false)

    // Second run: cached, one line (with the default 5 s heartbeat: a cached check takes well under it).
    lines.length = 0
    await prepareBenchmarkInputs(bench, ['test'], { ...ctx, heartbeatMs: undefined }, slowModule)
    expect(lines, lines.join('\n')).toEqual([expect.stringMatching(new RegExp(`^${P}: 1 object\\(s\\), 2\\.0 MB cached`))])
  }, 60_000)
})
