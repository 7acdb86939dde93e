/**
 * Credentials never reach what the suite writes or hands around: a mocked
 * deploy + invoke (both triggers), cold start, metrics and delete run with a
 * recognisable fake secret in the environment, then the cache directory, the
 * results written from the invocations, the handles, every log line and
 * every request sent to AWS are searched for it.
 */
import { randomBytes } from 'node:crypto'
import { readdir, readFile, mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { Logger } from '../../core/logger.ts'
import { appendRecord } from '../../core/records.ts'
import type { InvocationRecord } from '../../core/types.ts'
import { loadFixtureBenchmark } from '../../test/support/conformance/fixtures.ts'
import type { DeployedFunction, InvokeResult } from '../types.ts'
import { createAwsProvider } from './index.ts'
import { FakeAws } from '../../test/support/aws/fake-aws.ts'
import { writeBenchmark } from '../../test/support/aws/fixtures.ts'
import { FAST_TIMINGS } from '../../test/support/aws/timings.ts'

const SECRET = `SECRETxyz${randomBytes(12).toString('hex')}`
const TOKEN = `TOKENxyz${randomBytes(12).toString('hex')}`
const KEY_ID = 'AKIAFAKEFAKEFAKE7777'

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(join(entry.parentPath, entry.name))
  }
  return out
}

/** Files under `dirs` whose bytes contain any of `needles`. */
async function filesContaining(dirs: string[], needles: string[]): Promise<string[]> {
  const hits: string[] = []
  for (const dir of dirs) {
    for (const file of await filesUnder(dir)) {
      const bytes = await readFile(file)
      if (needles.some((n) => bytes.includes(n))) hits.push(file)
    }
  }
  return hits
}

let work: string
let fake: FakeAws
const lines: string[] = []

function recordingLogger(): Logger {
  const make = (ns: string): Logger => ({
    info: (m) => lines.push(`${ns} info ${m}`),
    warn: (m) => lines.push(`${ns} warn ${m}`),
    debug: (m) => lines.push(`${ns} debug ${m}`),
    child: (sub) => make(`${ns}:${sub}`),
  })
  return make('sebs')
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sebs-aws-secret-'))
  vi.stubEnv('AWS_ACCESS_KEY_ID', KEY_ID)
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', SECRET)
  vi.stubEnv('AWS_SESSION_TOKEN', TOKEN)
  vi.stubEnv('AWS_REGION', 'us-west-2')
  fake = await new FakeAws({ workDir: join(work, 'lambda'), region: 'us-west-2' }).start()
})
afterAll(async () => {
  await fake?.stop()
  vi.unstubAllEnvs()
  if (work) await rm(work, { recursive: true, force: true })
})

describe('no credentials in caches, results, handles, logs or requests', () => {
  it('the scan finds a planted secret (the check can fail)', async () => {
    const planted = join(work, 'planted')
    await mkdir(planted, { recursive: true })
    await writeFile(join(planted, 'x.json'), JSON.stringify({ key: SECRET }))
    expect(await filesContaining([planted], [SECRET])).toEqual([join(planted, 'x.json')])
    await rm(planted, { recursive: true })
  })

  it('a full mocked run writes and sends no secret', async () => {
    const cacheDir = join(work, '.sebs-cache')
    const resultsDir = join(work, 'results', 'secret-run')
    const logger = recordingLogger()
    const provider = createAwsProvider({ runId: 'secret-run', cacheDir, logger, options: {} }, { timings: FAST_TIMINGS })
    await provider.checkCredentials()
    const echo = await loadFixtureBenchmark('901.echo')
    const build = { cacheDir, logger, runtimes: { python: 'python3', node: process.execPath } }
    const handles: unknown[] = []
    const payloads: string[] = []
    let repetition = 0
    for (const [language, trigger] of [
      ['python', 'library'],
      ['nodejs', 'http'],
    ] as const) {
      const pkg = await provider.package({ benchmark: echo, language, arch: 'x64' }, build)
      const fn: DeployedFunction = await provider.deploy(pkg, { runId: 'secret-run', memory: 128, timeout: 2, trigger, env: {} })
      handles.push(fn.handle)
      const records: InvocationRecord[] = []
      const run = async (payload: Record<string, unknown>) => {
        const startedAt = Date.now()
        const r: InvokeResult = await fn.invoke(payload)
        payloads.push(JSON.stringify(r))
        const envelope = r.state === 'timeout' ? undefined : r.envelope
        const base = {
          runId: 'secret-run',
          benchmark: echo.id,
          language,
          size: 'test' as const,
          provider: 'aws',
          memory: 128,
          trigger,
          phase: 'warm',
          repetition: repetition++,
          requestId: envelope?.requestId ?? '',
          containerId: envelope?.containerId ?? '',
          isCold: envelope?.isCold ?? false,
          outputValid: r.state === 'ok',
          clientTimeUs: r.clientTimeUs,
          functionTimeUs: envelope ? envelope.end - envelope.begin : 0,
          startedAt,
          providerTimeUs: r.providerTimeUs,
          initTimeUs: r.initTimeUs,
          billedTimeMs: r.billedTimeMs,
          memoryUsedMb: r.memoryUsedMb,
        }
        records.push(r.state === 'ok' ? { ...base, state: 'ok' } : { ...base, state: r.state, error: r.error })
      }
      await run({ message: 'hello' })
      await run({ fail: 'boom' })
      await fn.forceColdStart()
      await run({ message: 'cold again' })
      for (const rec of await fn.metrics!(records)) appendRecord(join(resultsDir, 'invocations.jsonl'), rec)
      await fn.delete()
    }
    // What a function sees in its environment (and could return): the role's
    // credentials from Lambda, never the deployer's.
    const envDump = await writeBenchmark(join(work, 'benchmarks'), '804.env-dump', {
      nodejs: { 'function.js': 'exports.handler = async () => ({ result: process.env })\n' },
    })
    const dumpPkg = await provider.package({ benchmark: envDump, language: 'nodejs', arch: 'x64' }, build)
    const dumpFn = await provider.deploy(dumpPkg, { runId: 'secret-run', memory: 128, timeout: 2, trigger: 'library', env: {} })
    const dumped = await dumpFn.invoke({})
    expect(dumped.state).toBe('ok')
    const seen = JSON.stringify(dumped.state === 'ok' ? dumped.envelope.result : null)
    expect(seen).toContain('AWS_LAMBDA_FUNCTION_NAME')
    payloads.push(seen)
    await dumpFn.delete()
    await writeFile(join(resultsDir, 'handles.json'), JSON.stringify(handles))
    await provider.close()

    const needles = [SECRET, TOKEN]
    expect(await filesUnder(cacheDir)).not.toHaveLength(0)
    expect(await filesContaining([cacheDir, resultsDir], needles)).toEqual([])
    expect(lines.length).toBeGreaterThan(0)
    expect(lines.filter((l) => needles.some((n) => l.includes(n)))).toEqual([])
    expect(payloads.filter((p) => needles.some((n) => p.includes(n)))).toEqual([])
    const requests = JSON.stringify(fake.calls.map((c) => ({ ...c, input: stripBinary(c.input) })))
    expect(requests).not.toContain(SECRET)
    expect(requests).not.toContain(TOKEN)
    expect(requests).not.toContain(KEY_ID)
    expect(JSON.stringify(handles)).not.toContain(KEY_ID)
    // The packaged code went out too: the zips hold no secret either.
    const creates = fake.calls.filter((c) => c.command === 'CreateFunction').map((c) => c.input as { FunctionName: string; Code: { ZipFile: Uint8Array } })
    expect(new Set(creates.map((c) => c.FunctionName)).size).toBe(3)
    const zips = creates.map((c) => Buffer.from(c.Code.ZipFile))
    expect(zips.filter((z) => z.includes(SECRET) || z.includes(TOKEN))).toEqual([])
  }, 120_000)
})

/** Zip bytes are checked separately; JSON of a Uint8Array would only be noise. */
function stripBinary(input: unknown): unknown {
  return JSON.parse(JSON.stringify(input, (_k, v) => (v instanceof Uint8Array ? `<${v.length} bytes>` : v)))
}
