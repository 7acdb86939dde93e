/**
 * The Python bridge for SeBS-format `input.py`, against a real `python3`:
 * load-time calls, generate_input with upload/nosql callbacks,
 * validate_output with the storage callback and sebs.utils.get_project_root(),
 * errors (tracebacks, missing data, timeouts, import failures), stdout
 * hygiene, process lifetime; and an end-to-end `sebs bench` of the
 * SeBS-format fixture on the local provider.
 */
import { spawnSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ensureFreshDist } from '../test/support/fresh-dist.ts'
import type { GenerateInputContext, ValidateOutputContext } from '../core/benchmark-input.ts'
import { SebsError } from '../core/errors.ts'
import type { InvocationRecord, Size } from '../core/types.ts'
import { loadPythonInputModule, sebsOutput, type PythonInputModule } from './python-bridge.ts'

const ROOT = resolve(import.meta.dirname, '..')
const FIXTURE = join(ROOT, 'test', 'fixtures', 'sebs-format', '000.sebs', '001.sebs-hello')
const FIXTURE_DATA_ROOT = join(ROOT, 'test', 'fixtures', 'sebs-format-data')
const PYTHON = 'python3'

const scratch = mkdtempSync(join(tmpdir(), 'sebs-bridge-test-'))
const open: PythonInputModule[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((m) => m.close()))
})
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

let counter = 0
/** Writes an input.py into a fresh benchmark directory and returns its definition. */
function benchmarkWith(source: string, id = '999.bridge-test') {
  const dir = join(scratch, `b${counter++}`, id)
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'input.py'), source)
  return { id, dir, input: { kind: 'py' as const, path: join(dir, 'input.py') } }
}

async function load(bench: { id: string; dir: string; input: { kind: 'py'; path: string } }, timeouts?: Parameters<typeof loadPythonInputModule>[1]['timeouts']) {
  const mod = await loadPythonInputModule(bench, { python: PYTHON, timeouts })
  open.push(mod)
  return mod
}

function fixtureBench() {
  return { id: '001.sebs-hello', dir: FIXTURE, input: { kind: 'py' as const, path: join(FIXTURE, 'input.py') } }
}

interface Recorded {
  uploads: Array<{ prefixIndex: number; key: string; filePath: string; content: string }>
  nosqlCalls: Array<{ table: string; data: Record<string, unknown>; pk: [string, string]; sk?: [string, string] }>
  objects: Map<string, Buffer>
}

/** A context like the harness builds; upload/nosql are plain recording functions (the harness's callback interface). */
function context(dataDir: string, size: Size = 'test', counts: [number, number] = [1, 1]): GenerateInputContext & Recorded {
  const rec: Recorded = { uploads: [], nosqlCalls: [], objects: new Map() }
  const inputPrefixes = Array.from({ length: counts[0] }, (_, i) => `bench-${i}-input`)
  return {
    ...rec,
    dataDir,
    size,
    bucket: 'sebs-benchmarks-test',
    inputPrefixes,
    outputPrefixes: Array.from({ length: counts[1] }, (_, i) => `bench-${i}-output`),
    async upload(prefixIndex, key, filePath) {
      const content = await readFile(filePath)
      rec.uploads.push({ prefixIndex, key, filePath, content: content.toString('utf8') })
      const objectKey = `${inputPrefixes[prefixIndex]}/${key}`
      rec.objects.set(`sebs-benchmarks-test/${objectKey}`, content)
      return objectKey
    },
    async nosql(table, data, pk, sk) {
      rec.nosqlCalls.push({ table, data, pk, sk })
    },
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Pids of running python-bridge.py processes for this input.py (from /proc). */
function bridgeProcessesFor(inputPath: string): number[] {
  const pids: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const argv = readFileSync(join('/proc', entry, 'cmdline'), 'utf8').split('\0')
      if (argv.some((a) => a.endsWith('python-bridge.py')) && argv.includes(inputPath)) pids.push(Number(entry))
    } catch {
      // the process ended while we looked
    }
  }
  return pids
}

async function waitGone(pid: number, timeoutMs = 5_000): Promise<boolean> {
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    if (!pidAlive(pid)) return true
    await new Promise((r) => setTimeout(r, 25))
  }
  return !pidAlive(pid)
}

describe('loadPythonInputModule', () => {
  it('computes buckets_count and allocate_nosql once, at load time', async () => {
    const bench = benchmarkWith(`
calls = []
def buckets_count():
    calls.append('buckets')
    return (2, 1)
def allocate_nosql():
    return {"shopping_cart": {"primary_key": "cart_id", "secondary_key": "product_id"}, "log": {"primary_key": "id"}}
def generate_input(data_dir, size, benchmarks_bucket, input_paths, output_paths, upload_func, nosql_func):
    return {"buckets_calls": len(calls)}
`)
    const mod = await load(bench)
    expect(mod.bucketsCount?.()).toEqual([2, 1])
    expect(mod.bucketsCount?.()).toEqual([2, 1])
    expect(mod.allocateNosql?.()).toEqual({
      shopping_cart: { primaryKey: 'cart_id', secondaryKey: 'product_id' },
      log: { primaryKey: 'id' },
    })
    expect(mod.validateOutput).toBeUndefined()
    // Python saw exactly one buckets_count() call, however often Node asked.
    const event = await mod.generateInput(context(join(scratch, 'data', 'g', 'x'), 'test', [2, 1]))
    expect(event).toEqual({ buckets_calls: 1 })
  })

  it('leaves bucketsCount/allocateNosql undefined when input.py has none', async () => {
    const mod = await load(benchmarkWith(`
def generate_input(data_dir, size, benchmarks_bucket, input_paths, output_paths, upload_func, nosql_func):
    return {"size": size}
`))
    expect(mod.bucketsCount).toBeUndefined()
    expect(mod.allocateNosql).toBeUndefined()
    expect(await mod.generateInput(context(join(scratch, 'd', 'g', 'x'), 'large'))).toEqual({ size: 'large' })
  })

  it('refuses an input.py without generate_input, and one that cannot be imported, with the traceback', async () => {
    const none = benchmarkWith('def buckets_count():\n    return (0, 0)\n')
    await expect(loadPythonInputModule(none, { python: PYTHON })).rejects.toMatchObject({
      code: 'BENCHMARK_LAYOUT_INVALID',
      message: expect.stringContaining(`${none.input.path}: defines no generate_input`),
    })
    const broken = benchmarkWith('import json\n\ndef helper():\n    pass\n\nraise ImportError("no module named squiggle")\n')
    const err = await loadPythonInputModule(broken, { python: PYTHON }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(SebsError)
    expect((err as SebsError).code).toBe('BENCHMARK_LAYOUT_INVALID')
    expect((err as Error).message).toContain(broken.input.path)
    expect((err as Error).message).toContain('ImportError: no module named squiggle')
    expect((err as Error).message).toMatch(/line 6, in <module>/)
  })

  it('reports a buckets_count that raises or returns nonsense', async () => {
    const raising = benchmarkWith(`
def buckets_count():
    raise ValueError("bad counts")
def generate_input(*args):
    return {}
`)
    await expect(loadPythonInputModule(raising, { python: PYTHON })).rejects.toMatchObject({
      code: 'INPUT_GENERATION_FAILED',
      message: expect.stringMatching(/raised ValueError: bad counts[\s\S]*in buckets_count/),
    })
    const nonsense = benchmarkWith(`
def buckets_count():
    return (1, -1)
def generate_input(*args):
    return {}
`)
    await expect(loadPythonInputModule(nonsense, { python: PYTHON })).rejects.toThrow(/buckets_count\(\) must return \(n_input, n_output\)/)
  })

  it('says which interpreter is missing', async () => {
    const bench = benchmarkWith('def generate_input(*a):\n    return {}\n')
    await expect(loadPythonInputModule(bench, { python: 'python3-does-not-exist' })).rejects.toMatchObject({
      code: 'TOOL_MISSING',
      message: expect.stringContaining("'python3-does-not-exist' not found"),
    })
  })
})

describe('generate_input', () => {
  it('calls back into Node for uploads and NoSQL inserts, in order, and returns the event', async () => {
    const bench = benchmarkWith(`
import os
def buckets_count():
    return (2, 1)
def allocate_nosql():
    return {"cart": {"primary_key": "cart_id", "secondary_key": "product_id"}}
def generate_input(data_dir, size, benchmarks_bucket, input_paths, output_paths, upload_func, nosql_func):
    os.makedirs(data_dir, exist_ok=True)
    keys = []
    for i, name in enumerate(["a.txt", "sub/b.txt"]):
        path = os.path.join(data_dir, os.path.basename(name))
        with open(path, "w") as f:
            f.write("content of " + name)
        keys.append(upload_func(i, name, path))
    nosql_func("999.bridge-test", "cart", {"name": "Gothic", "price": 42}, ("cart_id", "c1"), ("product_id", "p1"))
    nosql_func("999.bridge-test", "cart", {"name": "Mint", "price": 0}, ("cart_id", "c1"), ("product_id", 7))
    return {"keys": keys, "bucket": benchmarks_bucket, "inputs": input_paths, "outputs": output_paths, "size": size, "data_dir": data_dir}
`)
    const mod = await load(bench)
    const dataDir = join(scratch, 'gen-data', '900.group', '999.bridge-test')
    const ctx = context(dataDir, 'small', [2, 1])
    const event = await mod.generateInput(ctx)
    expect(event).toEqual({
      keys: ['bench-0-input/a.txt', 'bench-1-input/sub/b.txt'],
      bucket: 'sebs-benchmarks-test',
      inputs: ['bench-0-input', 'bench-1-input'],
      outputs: ['bench-0-output'],
      size: 'small',
      data_dir: dataDir,
    })
    expect(ctx.uploads.map(({ prefixIndex, key, filePath, content }) => ({ prefixIndex, key, filePath, content }))).toEqual([
      { prefixIndex: 0, key: 'a.txt', filePath: join(dataDir, 'a.txt'), content: 'content of a.txt' },
      { prefixIndex: 1, key: 'sub/b.txt', filePath: join(dataDir, 'b.txt'), content: 'content of sub/b.txt' },
    ])
    expect(ctx.nosqlCalls).toEqual([
      { table: 'cart', data: { name: 'Gothic', price: 42 }, pk: ['cart_id', 'c1'], sk: ['product_id', 'p1'] },
      { table: 'cart', data: { name: 'Mint', price: 0 }, pk: ['cart_id', 'c1'], sk: ['product_id', '7'] },
    ])
  })

  it('runs the SeBS fixture: reads its data file, uploads it, keeps prints off the protocol', async () => {
    const mod = await load(fixtureBench())
    expect(mod.bucketsCount?.()).toEqual([1, 1])
    const dataDir = join(FIXTURE_DATA_ROOT, '000.sebs', '001.sebs-hello')
    const ctx = context(dataDir, 'small')
    const event = await mod.generateInput(ctx)
    expect(event).toEqual({
      object: { key: 'greeting.txt', bytes: readFileSync(join(dataDir, 'greeting.txt')).length },
      bucket: { bucket: 'sebs-benchmarks-test', input: 'bench-0-input', output: 'bench-0-output' },
      repeat: 2,
    })
    expect(ctx.uploads).toHaveLength(1)
    expect(ctx.uploads[0]!.content).toBe(readFileSync(join(dataDir, 'greeting.txt'), 'utf8'))
  })

  it('is not disturbed by prints, writes to fd 1, child processes or reads of stdin', async () => {
    const bench = benchmarkWith(`
import os, subprocess, sys
print("hello from module level")
def generate_input(data_dir, size, benchmarks_bucket, input_paths, output_paths, upload_func, nosql_func):
    print('{"type": "result", "id": 2, "value": {"forged": true}}')
    sys.stdout.write("no newline at the end")
    sys.stdout.flush()
    os.write(1, b'{"type": "error", "id": 2}\\n')
    subprocess.run(["echo", '{"type":"result","id":1,"value":"from echo"}'], check=True)
    data = sys.stdin.read()
    sub = subprocess.run(["cat"], capture_output=True, check=True, timeout=10).stdout
    return {"ok": True, "stdin": data, "child_stdin": sub.decode()}
`)
    const mod = await load(bench)
    const event = await mod.generateInput(context(join(scratch, 'p', 'g', 'x')))
    expect(event).toEqual({ ok: true, stdin: '', child_stdin: '' })
    // The bridge still answers afterwards.
    expect(await mod.generateInput(context(join(scratch, 'p', 'g', 'x')))).toEqual({ ok: true, stdin: '', child_stdin: '' })
  })

  it('surfaces a Python exception with its traceback and the input.py path', async () => {
    const bench = benchmarkWith(`
import os
def helper(size):
    raise KeyError("unknown size " + size)
def generate_input(data_dir, size, benchmarks_bucket, input_paths, output_paths, upload_func, nosql_func):
    with open(os.path.join(data_dir, "present.txt"), "w") as f:
        f.write("x")
    return helper(size)
`)
    const mod = await load(bench)
    const dataDir = join(scratch, 'exc', 'g', 'x')
    mkdirSync(dataDir, { recursive: true })
    const err = (await mod.generateInput(context(dataDir)).catch((e: unknown) => e)) as SebsError
    expect(err).toBeInstanceOf(SebsError)
    expect(err.code).toBe('INPUT_GENERATION_FAILED')
    expect(err.message).toContain(bench.input.path)
    expect(err.message).toContain(`KeyError: 'unknown size test'`)
    expect(err.message).toMatch(/line 4, in helper/)
    expect(err.message).toMatch(/line 8, in generate_input/)
    // The bridge's own frames are left out.
    expect(err.message).not.toContain('python-bridge.py')
    // The same process serves the next call.
    const pid = mod.pid
    await expect(mod.generateInput(context(dataDir))).rejects.toThrow(/KeyError/)
    expect(mod.pid).toBe(pid)
  })

  it('keeps the error (and its code) of a failing upload callback', async () => {
    const bench = benchmarkWith(`
import os
def buckets_count():
    return (1, 0)
def generate_input(data_dir, size, benchmarks_bucket, input_paths, output_paths, upload_func, nosql_func):
    path = os.path.join(data_dir, "f.bin")
    with open(path, "wb") as f:
        f.write(b"x")
    upload_func(0, "f.bin", path)
    return {}
`)
    const mod = await load(bench)
    const dataDir = join(scratch, 'cb', 'g', 'x')
    mkdirSync(dataDir, { recursive: true })
    const ctx = context(dataDir)
    ctx.upload = async () => {
      throw new SebsError('STORAGE_FAILED', 'the bucket is gone')
    }
    await expect(mod.generateInput(ctx)).rejects.toMatchObject({ code: 'STORAGE_FAILED', message: 'the bucket is gone' })
  })

  it('says where it looked when the data is missing', async () => {
    const mod = await load(fixtureBench())
    const dataRoot = join(scratch, 'no-data-root')
    const dataDir = join(dataRoot, '000.sebs', '001.sebs-hello')
    mkdirSync(dataDir, { recursive: true }) // the harness creates it; it stays empty
    const err = (await mod.generateInput(context(dataDir)).catch((e: unknown) => e)) as SebsError
    expect(err).toBeInstanceOf(SebsError)
    expect(err.code).toBe('BENCHMARK_DATA_MISSING')
    expect(err.message).toContain(join(FIXTURE, 'input.py'))
    expect(err.message).toContain(`${dataDir} is empty`)
    expect(err.message).toContain('--data-dir')
    expect(err.message).toContain('.sebs/benchmarks-data')
    expect(err.message).toContain('FileNotFoundError')

    // Also when the data directory does not exist at all, and for SeBS's own "empty dir" failures.
    const sebsStyle = benchmarkWith(`
import glob, os
def generate_input(data_dir, size, benchmarks_bucket, input_paths, output_paths, upload_func, nosql_func):
    for file in glob.glob(os.path.join(data_dir, '*.mp4')):
        img = os.path.relpath(file, data_dir)
    return {'object': {'key': img}}
`)
    const mod2 = await load(sebsStyle)
    await expect(mod2.generateInput(context(join(scratch, 'nowhere', 'g', 'x')))).rejects.toMatchObject({
      code: 'BENCHMARK_DATA_MISSING',
      message: expect.stringMatching(/nowhere\/g\/x does not exist[\s\S]*UnboundLocalError/),
    })
  })

  it("an input.py that raises its own exception is reported as it is, not as missing data, even with an empty data folder", async () => {
    const mod = await load(benchmarkWith(`
def generate_input(data_dir, size, benchmarks_bucket, input_paths, output_paths, upload_func, nosql_func):
    raise RuntimeError("the generator is broken")
`))
    const dataDir = join(scratch, 'raises', 'g', 'x')
    mkdirSync(dataDir, { recursive: true })
    const err = (await mod.generateInput(context(dataDir)).catch((e: unknown) => e)) as SebsError
    expect(err.code).toBe('INPUT_GENERATION_FAILED')
    expect(err.message).toContain('RuntimeError: the generator is broken')
    expect(err.message).not.toMatch(/data|clone/i)
  })

  it('runs older SeBS signatures (6 and 5 positional parameters)', async () => {
    const six = await load(benchmarkWith(`
def generate_input(data_dir, size, benchmarks_bucket, input_paths, output_paths, upload_func):
    return {"bucket": benchmarks_bucket, "out": output_paths[0]}
`))
    expect(await six.generateInput(context(join(scratch, 's', 'g', 'x')))).toEqual({ bucket: 'sebs-benchmarks-test', out: 'bench-0-output' })
    const five = await load(benchmarkWith(`
def generate_input(data_dir, size, input_buckets, output_buckets, upload_func):
    return {"in": input_buckets, "out": output_buckets}
`))
    expect(await five.generateInput(context(join(scratch, 's', 'g', 'x')))).toEqual({ in: ['bench-0-input'], out: ['bench-0-output'] })
  })

  it('times out a hanging call, kills the process and starts a fresh one for the next call', async () => {
    const bench = benchmarkWith(`
import time
def generate_input(data_dir, size, benchmarks_bucket, input_paths, output_paths, upload_func, nosql_func):
    if size == "large":
        time.sleep(60)
    return {"size": size}
`)
    const mod = await load(bench, { generateInputMs: 1_000 })
    const pid = mod.pid!
    const started = Date.now()
    await expect(mod.generateInput(context(join(scratch, 't', 'g', 'x'), 'large'))).rejects.toMatchObject({
      code: 'TIMEOUT',
      message: expect.stringContaining('generate_input did not finish within 1 s'),
    })
    expect(Date.now() - started).toBeLessThan(20_000)
    expect(await waitGone(pid)).toBe(true)
    expect(await mod.generateInput(context(join(scratch, 't', 'g', 'x'), 'test'))).toEqual({ size: 'test' })
    expect(mod.pid).not.toBe(pid)
  })
})

describe('validate_output', () => {
  const SHOUT_KEY = 'bench-0-output/shout.1a2b3c4d.txt'

  /** What the fixture's function would have uploaded for this event. */
  function expectedText(dataRoot: string, repeat: number): string {
    const banner = readFileSync(join(FIXTURE, 'templates', 'banner.txt'), 'utf8')
    const greeting = readFileSync(join(dataRoot, '000.sebs', '001.sebs-hello', 'greeting.txt'), 'utf8')
    return (banner + '\n' + greeting.toUpperCase()).repeat(repeat)
  }

  async function validateWith(
    mod: PythonInputModule,
    dataRoot: string,
    stored: string | undefined,
    language: 'python' | 'nodejs' = 'python',
    resultLanguage: string = language,
  ) {
    const dataDir = join(dataRoot, '000.sebs', '001.sebs-hello')
    const ctx = context(dataDir, 'small')
    const event = await mod.generateInput(ctx)
    if (stored !== undefined) ctx.objects.set(`sebs-benchmarks-test/${SHOUT_KEY}`, Buffer.from(stored))
    const downloads: string[] = []
    const vctx: ValidateOutputContext = {
      dataDir,
      size: 'small',
      language,
      input: event,
      output: { bucket: 'sebs-benchmarks-test', key: SHOUT_KEY, language: resultLanguage, banner: readFileSync(join(FIXTURE, 'templates', 'banner.txt'), 'utf8') },
      download: async (bucket, key) => {
        downloads.push(`${bucket}/${key}`)
        const data = ctx.objects.get(`${bucket}/${key}`)
        if (!data) throw new Error(`NoSuchKey: ${bucket}/${key}`)
        return data
      },
    }
    return { verdict: await mod.validateOutput!(vctx), downloads, vctx }
  }

  it('accepts the right output, reading storage and get_project_root() (data root not named benchmarks-data)', async () => {
    const mod = await load(fixtureBench())
    const { verdict, downloads } = await validateWith(mod, FIXTURE_DATA_ROOT, expectedText(FIXTURE_DATA_ROOT, 2))
    expect(verdict).toBeUndefined()
    // download() and download_stream() both went through ctx.download.
    expect(downloads).toEqual([`sebs-benchmarks-test/${SHOUT_KEY}`, `sebs-benchmarks-test/${SHOUT_KEY}`])
  })

  it('finds the data through get_project_root() when the data root is named benchmarks-data', async () => {
    const root = join(scratch, 'project', 'benchmarks-data')
    cpSync(FIXTURE_DATA_ROOT, root, { recursive: true })
    // A different greeting proves the validator read this root, not the fixture's.
    writeFileSync(join(root, '000.sebs', '001.sebs-hello', 'greeting.txt'), 'another greeting\n')
    const mod = await load(fixtureBench())
    expect((await validateWith(mod, root, expectedText(root, 2))).verdict).toBeUndefined()
    expect((await validateWith(mod, root, expectedText(FIXTURE_DATA_ROOT, 2))).verdict).toMatch(/uploaded text differs/)
  })

  it('also through a symlinked data root elsewhere', async () => {
    const link = join(scratch, 'linked-data')
    symlinkSync(FIXTURE_DATA_ROOT, link)
    const mod = await load(fixtureBench())
    expect((await validateWith(mod, link, expectedText(FIXTURE_DATA_ROOT, 2))).verdict).toBeUndefined()
  })

  it('reports wrong content, a wrong language, and a missing object as messages', async () => {
    const mod = await load(fixtureBench())
    expect((await validateWith(mod, FIXTURE_DATA_ROOT, 'WRONG')).verdict).toMatch(/^uploaded text differs/)
    expect((await validateWith(mod, FIXTURE_DATA_ROOT, expectedText(FIXTURE_DATA_ROOT, 2), 'nodejs', 'python')).verdict).toBe(
      "the result says language 'python', expected 'nodejs'",
    )
    const missing = (await validateWith(mod, FIXTURE_DATA_ROOT, undefined)).verdict
    expect(missing).toMatch(/^validate_output raised: BridgeCallbackError: download failed in the harness: NoSuchKey/)
    expect(missing).toContain(join(FIXTURE, 'input.py'))
  })

  it('passes storage=None without a download function, and the output in both SeBS shapes', async () => {
    const bench = benchmarkWith(`
def generate_input(*args):
    return {}
def validate_output(data_dir, input_config, output, language, storage=None):
    if storage is not None:
        return "storage should be None"
    if output["result"] != output["output"] or output["result"]["n"] != input_config["n"]:
        return "bad output " + repr(output)
    if output["measurement"] != {}:
        return "bad measurement"
    return None
`)
    const mod = await load(bench)
    const base = { dataDir: join(scratch, 'v', 'g', 'x'), size: 'test' as const, language: 'python' as const }
    expect(await mod.validateOutput!({ ...base, input: { n: 3 }, output: { n: 3 } })).toBeUndefined()
    expect(await mod.validateOutput!({ ...base, input: { n: 3 }, output: { n: 4 } })).toMatch(/^bad output/)
    expect(sebsOutput(5, { t: 1 })).toEqual({ result: 5, output: 5, measurement: { t: 1 } })
  })

  it('turns exceptions, False and older signatures into the right verdicts', async () => {
    const raising = await load(benchmarkWith(`
def generate_input(*args):
    return {}
def validate_output(data_dir, input_config, output, language, storage=None):
    return output["result"]["missing"]
`))
    const verdict = await raising.validateOutput!({ dataDir: scratch, size: 'test', language: 'python', input: {}, output: {} })
    expect(verdict).toMatch(/^validate_output raised: KeyError: 'missing'/)
    expect(verdict).toMatch(/line 5, in validate_output/)

    const old = await load(benchmarkWith(`
def generate_input(*args):
    return {}
def validate_output(input_config, output):
    return output.get('result') == input_config.get('sleep')
`))
    expect(await old.validateOutput!({ dataDir: scratch, size: 'test', language: 'python', input: { sleep: 1 }, output: 1 })).toBeUndefined()
    expect(await old.validateOutput!({ dataDir: scratch, size: 'test', language: 'python', input: { sleep: 1 }, output: 2 })).toBe(
      'validate_output returned False',
    )
  })
})

describe('bridge process lifetime', () => {
  it('is gone after close(), and a closed module starts a new process on the next call', async () => {
    const mod = await load(fixtureBench())
    const pid = mod.pid
    expect(pid).toBeGreaterThan(0)
    expect(pidAlive(pid!)).toBe(true)
    await mod.close()
    expect(await waitGone(pid!)).toBe(true)
    expect(mod.pid).toBeUndefined()
    await mod.close() // idempotent
    const event = await mod.generateInput(context(join(FIXTURE_DATA_ROOT, '000.sebs', '001.sebs-hello')))
    expect(event.repeat).toBe(1)
    expect(mod.pid).not.toBe(pid)
  })

  it('does not keep Node alive when idle, and dies with it', async () => {
    // A child Node loads the module, generates an input and simply returns.
    const script = `
      import { loadPythonInputModule } from ${JSON.stringify(join(ROOT, 'engine', 'python-bridge.ts'))}
      const mod = await loadPythonInputModule(${JSON.stringify(fixtureBench())}, { python: 'python3' })
      await mod.generateInput({ dataDir: ${JSON.stringify(join(FIXTURE_DATA_ROOT, '000.sebs', '001.sebs-hello'))}, size: 'test', bucket: 'b',
        inputPrefixes: ['p-0-input'], outputPrefixes: ['p-0-output'], upload: async (i, k) => k })
      console.log('PID ' + mod.pid)
    `
    const started = Date.now()
    const res = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 })
    expect(res.status, res.stderr).toBe(0)
    expect(Date.now() - started).toBeLessThan(60_000)
    const pid = Number(/PID (\d+)/.exec(res.stdout)?.[1])
    expect(pid).toBeGreaterThan(0)
    // Killed by the exit hook (or gone on stdin EOF): no orphan is left.
    expect(await waitGone(pid)).toBe(true)
  })
})

describe('sebs bench on a SeBS-format benchmark directory (local provider)', () => {
  // The bin runs the built code: build what changed first.
  beforeAll(ensureFreshDist, 300_000)
  it('runs 001.sebs-hello unchanged in both languages and validates the outputs through the bridge', () => {
    const results = mkdtempSync(join(tmpdir(), 'sebs-bridge-e2e-'))
    try {
      const res = spawnSync(
        process.execPath,
        [
          join(ROOT, 'bin', 'sebs.mjs'),
          'bench',
          '--benchmarks',
          join(ROOT, 'test', 'fixtures', 'sebs-format'),
          '--data-dir',
          FIXTURE_DATA_ROOT,
          '-t',
          '001.sebs-hello',
          '--repetitions',
          '1',
          '--results-dir',
          results,
          '--cache-dir',
          join(ROOT, '.sebs-cache', 'test-e2e'),
        ],
        {
          cwd: ROOT,
          encoding: 'utf8',
          // The bridge's debug log carries input.py's prints: the fixture's validator prints one line per verdict.
          // SEBS_INPUT_REQUIREMENTS: the fixture's input.py needs only the standard library, so no managed environment (test/e2e/input-env.e2e.test.ts has one).
          env: { ...process.env, SEBS_CLI_OVERRIDES: '', SEBS_RUN_ID: '', FORCE_COLOR: '0', NO_COLOR: '1', DEBUG: 'sebs:python-bridge', SEBS_INPUT_REQUIREMENTS: '/dev/null' },
          timeout: 600_000,
        },
      )
      const all = `${res.stdout}\n${res.stderr}`
      expect(res.status, all).toBe(0)
      const [runDir] = readdirSync(results, { withFileTypes: true }).filter((d) => d.isDirectory())
      const records = readFileSync(join(results, runDir!.name, 'invocations.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as InvocationRecord)
      expect(records.map((r) => `${r.language} ${r.phase}`).sort()).toEqual(['nodejs cold', 'nodejs warm', 'python cold', 'python warm'])
      for (const r of records) {
        expect(r, all).toMatchObject({ benchmark: '001.sebs-hello', state: 'ok', outputValid: true, size: 'test' })
        expect(r.measurement?.download_size).toBe(readFileSync(join(FIXTURE_DATA_ROOT, '000.sebs', '001.sebs-hello', 'greeting.txt'), 'utf8').length)
      }
      // validate_output really ran (through the bridge, with storage) for every invocation.
      const validated = [...all.matchAll(/validated the (python|nodejs) output 001\.sebs-hello-0-output\/shout\.[0-9a-f]{8}\.txt/g)].map((m) => m[1])
      expect(validated.sort()).toEqual(['nodejs', 'nodejs', 'python', 'python'])
      // The bridge processes (main process and worker) did not outlive the run.
      expect(bridgeProcessesFor(join(FIXTURE, 'input.py'))).toEqual([])
    } finally {
      rmSync(results, { recursive: true, force: true })
    }
  }, 600_000)
})
