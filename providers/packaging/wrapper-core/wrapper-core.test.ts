/**
 * The wrapper core of each language (vitest worker; python3 as a child
 * process): the envelope's fields and their order, cold/warm and the
 * container id, the providers' hooks, a failing handler; and that every
 * local package lists the core among its (hashed) wrapper files.
 */
import { execFileSync } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { LOCAL_WRAPPER_FILES } from '../../local/local-provider.ts'
import { WRAPPER_CORE } from './index.ts'

const BASE_KEYS = ['begin', 'end', 'computeTimeUs', 'isCold', 'containerId', 'requestId', 'result', 'rssPeakKb', 'cpuUserUs', 'cpuSystemUs']

type Envelope = Record<string, unknown>
type Invoker = (event: unknown, requestId: string) => Promise<Envelope>
interface NodeCore {
  createInvoker(options: Record<string, unknown>): Invoker
}

let work: string

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sebs-core-'))
  await mkdir(join(work, 'function'))
  await writeFile(
    join(work, 'function', 'function.js'),
    "exports.handler = async (e) => { if (e.fail) throw new RangeError('bad size'); return { result: { echo: e.x }, measurement: { m: 1 } } }\n",
  )
  await writeFile(join(work, 'function', '__init__.py'), '')
  await writeFile(
    join(work, 'function', 'function.py'),
    'def handler(e):\n    if e.get("fail"):\n        raise ValueError("bad size")\n    return {"result": {"echo": e.get("x")}, "measurement": {"m": 1}}\n',
  )
})

afterAll(async () => {
  await rm(work, { recursive: true, force: true })
})

afterEach(() => {
  vi.unstubAllEnvs()
})

describe('nodejs sebs-core.js', () => {
  const core = createRequire(import.meta.url)(WRAPPER_CORE.nodejs) as NodeCore
  const load = () => createRequire(import.meta.url)(join(work, 'function', 'function.js'))

  it('builds the envelope in the contract order; cold once per marker, then warm with the same container id', async () => {
    const tmp = await mkdtemp(join(work, 'tmp-'))
    vi.stubEnv('TMPDIR', tmp)
    const invoke = core.createInvoker({ load, functionFile: 'function/function.js' })
    const event: Record<string, unknown> = { x: 7 }
    const cold = await invoke(event, 'r1')
    expect(Object.keys(cold)).toEqual([...BASE_KEYS, 'measurement'])
    expect(cold).toMatchObject({ isCold: true, requestId: 'r1', result: { echo: 7 }, measurement: { m: 1 } })
    expect(cold.end as number).toBeGreaterThanOrEqual(cold.begin as number)
    expect(event['request-id']).toBe('r1')
    expect(typeof event['income-timestamp']).toBe('number')
    const warm = await invoke({ x: 8 }, 'r2')
    expect(warm).toMatchObject({ isCold: false, containerId: cold.containerId, result: { echo: 8 } })
  })

  it('adds isColdWorker after isCold and the provider fields before measurement; a throw becomes error with result null', async () => {
    vi.stubEnv('TMPDIR', await mkdtemp(join(work, 'tmp-')))
    const invoke = core.createInvoker({
      load,
      functionFile: 'function/function.js',
      coldWorker: true,
      beforeTiming: () => 'state',
      extraFields: ({ state, importTimeUs }: { state: string; importTimeUs: number }) => ({ seen: state, importTimeUs }),
    })
    const first = await invoke({ fail: true }, 'r1')
    expect(Object.keys(first)).toEqual(['begin', 'end', 'computeTimeUs', 'isCold', 'isColdWorker', ...BASE_KEYS.slice(4), 'seen', 'importTimeUs', 'error'])
    expect(first).toMatchObject({ isColdWorker: true, seen: 'state', result: null, error: { type: 'RangeError', message: 'bad size' } })
    expect((await invoke({}, 'r2')).isColdWorker).toBe(false)
  })
})

describe('python sebs_core.py', () => {
  it('builds the same envelope as the nodejs core, with the same hooks', async () => {
    const tmp = await mkdtemp(join(work, 'tmp-'))
    const script = `
import importlib, json, sys
sys.path.insert(0, ${JSON.stringify(dirname(WRAPPER_CORE.python))})
sys.path.insert(0, ${JSON.stringify(work)})
import sebs_core
plain = sebs_core.make_invoker(lambda: importlib.import_module("function.function"), "function/function.py")
hooked = sebs_core.make_invoker(lambda: importlib.import_module("function.function"), "function/function.py",
    cold_worker=True, before_timing=lambda: "state", extra_fields=lambda s, b, a, i: {"seen": s, "importTimeUs": i})
out = [plain({"x": 7}, "r1"), plain({"x": 8}, "r2"), hooked({"fail": True}, "r3"), hooked({}, "r4")]
print(json.dumps([[list(e.keys()), e] for e in out]))
`
    const out = JSON.parse(execFileSync('python3', ['-c', script], { env: { ...process.env, TMPDIR: tmp }, encoding: 'utf8' })) as [string[], Envelope][]
    const [[coldKeys, cold], [, warm], [failKeys, failed], [, second]] = out
    expect(coldKeys).toEqual([...BASE_KEYS, 'measurement'])
    expect(cold).toMatchObject({ isCold: true, requestId: 'r1', result: { echo: 7 }, measurement: { m: 1 } })
    expect(warm).toMatchObject({ isCold: false, containerId: cold.containerId, result: { echo: 8 } })
    expect(failKeys).toEqual(['begin', 'end', 'computeTimeUs', 'isCold', 'isColdWorker', ...BASE_KEYS.slice(4), 'seen', 'importTimeUs', 'error'])
    // Same TMPDIR: the marker already exists, so the second invoker's instance is warm.
    expect(failed).toMatchObject({ isCold: false, isColdWorker: true, seen: 'state', result: null, error: { type: 'ValueError', message: 'bad size' } })
    expect(second.isColdWorker).toBe(false)
  })
})

describe('packaging', () => {
  it('every local package carries the core beside its handler (so the package hash covers it)', () => {
    expect(LOCAL_WRAPPER_FILES.python).toContain(WRAPPER_CORE.python)
    expect(LOCAL_WRAPPER_FILES.nodejs).toContain(WRAPPER_CORE.nodejs)
  })
})
