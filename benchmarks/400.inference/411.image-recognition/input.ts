/**
 * 411.image-recognition inputs: a deterministic seeded ResNet (SeBS's
 * ResNet-50 weights cannot be downloaded here) and seeded test images, made
 * by `make_model.py` with PyTorch, plus torch's golden class per image.
 *
 * PyTorch cannot run in the harness, so generation runs a Python that has it:
 * `SEBS_411_PYTHON` when set, otherwise `python3` with torch, numpy, Pillow and
 * onnx installed once (pip --target) into `<dataDir>/.python`.
 * `SEBS_411_WEIGHTS=/path/resnet50-19c8e357.pth` uses real ResNet-50 weights
 * for the small and large sizes instead of seeded ones.
 */
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createReadStream, existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { GenerateInputContext, ValidateOutputContext } from '../../../core/benchmark-input.ts'
import { ensureFile } from '../../_lib/data.ts'

type Size = GenerateInputContext['size']

const BENCH_DIR = dirname(fileURLToPath(import.meta.url))
const MAKE_MODEL = join(BENCH_DIR, 'make_model.py')
const REQUIREMENTS = join(BENCH_DIR, 'python', 'requirements.txt')
/** Only the generator needs onnx (torch.onnx.export); the functions do not. */
const GENERATOR_EXTRA = ['onnx==1.23.1']
const SEED = 411

export interface SizeSpec {
  arch: 'resnet18' | 'resnet50'
  /** Images classified per invocation. */
  images: number
  /** Images per forward pass. */
  batchSize: number
}

/** What each size runs: the network, how many images, and how they are batched. */
export const SIZES: Record<Size, SizeSpec> = {
  test: { arch: 'resnet18', images: 1, batchSize: 1 },
  small: { arch: 'resnet50', images: 4, batchSize: 4 },
  large: { arch: 'resnet50', images: 16, batchSize: 16 },
}

/** Images generated per model: small and large share the ResNet-50 set. */
const IMAGES_PER_ARCH: Record<SizeSpec['arch'], number> = { resnet18: 1, resnet50: 16 }

/** A Node.js class may differ from torch's only where torch's top-2 logits are this close. */
export const NEAR_TIE = 1e-3

export interface ExpectedImage {
  name: string
  idx: number
  second: number
  logit: number
  margin: number
}

export interface Expected {
  arch: string
  weights: Record<string, unknown>
  torch: string
  minMargin: number
  images: ExpectedImage[]
}

export function bucketsCount(): [number, number] {
  return [2, 0]
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

/** The model directory name: architecture, weights and image count, so that each variant is cached on its own. */
async function variantName(arch: SizeSpec['arch']): Promise<{ name: string; weights?: string }> {
  const n = IMAGES_PER_ARCH[arch]
  const weights = process.env.SEBS_411_WEIGHTS
  if (arch === 'resnet50' && weights) {
    if (!existsSync(weights)) throw new Error(`SEBS_411_WEIGHTS=${weights}: no such file (give the path of a ResNet-50 state_dict such as resnet50-19c8e357.pth)`)
    const digest = (await sha256File(weights)).slice(0, 12)
    return { name: `${arch}-w${digest}-n${n}`, weights }
  }
  return { name: `${arch}-s${SEED}-n${n}` }
}

interface RunResult {
  code: number | null
  signal: NodeJS.Signals | null
  output: string
  spawnError?: NodeJS.ErrnoException
}

/** Runs a tool; `onLine` gets each output line (pip's progress) for the user's heartbeat. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number, onLine?: (line: string) => void): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs })
    let output = ''
    let partial = ''
    // Keep the tail: pip and torch can be chatty, and errors come last.
    const keep = (chunk: Buffer) => {
      const text = chunk.toString()
      output = (output + text).slice(-8000)
      if (onLine) {
        const lines = (partial + text).split(/\r\n|\r|\n/)
        partial = lines.pop() ?? ''
        for (const line of lines) if (line.trim()) onLine(line)
      }
    }
    child.stdout.on('data', keep)
    child.stderr.on('data', keep)
    child.on('error', (err: NodeJS.ErrnoException) => resolve({ code: null, signal: null, output, spawnError: err }))
    child.on('close', (code, signal) => resolve({ code, signal, output }))
  })
}

const INSTALL_HINT = (target: string) =>
  `install them yourself (python3 -m pip install --target ${target} -r ${REQUIREMENTS} ${GENERATOR_EXTRA.join(' ')}), ` +
  `or set SEBS_411_PYTHON to a Python 3 interpreter that has torch, numpy, pillow and onnx`

/** How a long part of the generation is shown to the user (GenerateInputContext.task); runs it silently when absent. */
type Task = NonNullable<GenerateInputContext['task']>
const silently: Task = (_label, work) => work(() => {})

/** A Python command and environment that can run make_model.py; installs torch into `<dataDir>/.python` once. */
async function generatorPython(dataDir: string, task: Task = silently): Promise<{ command: string; env: NodeJS.ProcessEnv }> {
  const probe = ['-c', 'import torch, numpy, PIL, onnx']
  const explicit = process.env.SEBS_411_PYTHON
  if (explicit) {
    const r = await task(`checking that ${explicit} imports torch, numpy, Pillow and onnx`, (update) => run(explicit, probe, process.env, 120_000, update))
    if (r.code !== 0) {
      throw new Error(`SEBS_411_PYTHON=${explicit} cannot import torch, numpy, PIL and onnx: ${r.spawnError?.message ?? r.output.trim()}`)
    }
    return { command: explicit, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } }
  }
  const target = join(dataDir, '.python')
  // No __pycache__ in the benchmark's python/ folder (make_model.py imports from it).
  const env = {
    ...process.env,
    PYTHONPATH: [target, process.env.PYTHONPATH].filter(Boolean).join(':'),
    PYTHONNOUSERSITE: '1',
    PYTHONDONTWRITEBYTECODE: '1',
  }
  await ensureFile(target, async (tmp) => {
    const r = await task(`installing torch, numpy, Pillow and onnx for input generation into ${target}`, (update) =>
      run(
        'python3',
        ['-m', 'pip', 'install', '--no-input', '--disable-pip-version-check', '--target', tmp, '-r', REQUIREMENTS, ...GENERATOR_EXTRA],
        process.env,
        30 * 60_000,
        update,
      ),
    )
    if (r.code !== 0) {
      const why = r.spawnError?.code === 'ENOENT' ? 'python3 is not on PATH' : `pip failed (${r.signal ?? `exit code ${r.code}`}):\n${r.output.trim()}`
      throw new Error(`411.image-recognition needs PyTorch to generate its model, and installing it into ${target} failed: ${why}\nFix: ${INSTALL_HINT(target)}`)
    }
  })
  // Importing torch takes seconds on its own (20 s seen on a loaded machine): a step of its own, not a silent gap.
  const r = await task(`checking that torch, numpy, Pillow and onnx import from ${target}`, (update) => run('python3', probe, env, 120_000, update))
  if (r.code !== 0) {
    throw new Error(`the Python packages in ${target} do not import (${r.output.trim()}); delete that directory to reinstall, or ${INSTALL_HINT(target)}`)
  }
  return { command: 'python3', env }
}

/** Generates (once) the model directory for an architecture and returns its path and name. */
export async function ensureModel(dataDir: string, arch: SizeSpec['arch'], task: Task = silently): Promise<{ dir: string; name: string }> {
  const variant = await variantName(arch)
  const dir = join(dataDir, 'models', variant.name)
  if (!existsSync(dir)) {
    const python = await generatorPython(dataDir, task)
    await ensureFile(dir, async (tmp) => {
      const args = [MAKE_MODEL, '--arch', arch, '--seed', String(SEED), '--images', String(IMAGES_PER_ARCH[arch]), '--out', tmp]
      if (variant.weights) args.push('--weights', variant.weights)
      const r = await task(`generating the ${arch} model and ${IMAGES_PER_ARCH[arch]} images (make_model.py)`, (update) =>
        run(python.command, args, python.env, 60 * 60_000, update),
      )
      if (r.code !== 0) {
        throw new Error(`make_model.py (${arch}) failed (${r.spawnError?.message ?? r.signal ?? `exit code ${r.code}`}):\n${r.output.trim()}`)
      }
    })
  }
  return { dir, name: variant.name }
}

export async function generateInput(ctx: GenerateInputContext): Promise<Record<string, unknown>> {
  const spec = SIZES[ctx.size]
  const model = await ensureModel(ctx.dataDir, spec.arch, ctx.task)
  const expected = JSON.parse(await readFile(join(model.dir, 'expected.json'), 'utf8')) as Expected
  if (expected.images.length < spec.images) {
    throw new Error(`${model.dir}/expected.json lists ${expected.images.length} images, the ${ctx.size} size needs ${spec.images}; delete ${model.dir} to regenerate it`)
  }
  for (const file of ['model.pth', 'model.onnx']) await ctx.upload(0, `${model.name}/${file}`, join(model.dir, file))
  const images = expected.images.slice(0, spec.images).map((img) => `${model.name}/${img.name}`)
  for (const key of images) await ctx.upload(1, key, join(model.dir, basename(key)))
  return {
    object: {
      model: `${model.name}/model.pth`,
      onnx_model: `${model.name}/model.onnx`,
      arch: spec.arch,
      images,
      batch_size: spec.batchSize,
    },
    // SeBS's 411 layout: models in the first input prefix, images in the second.
    bucket: { bucket: ctx.bucket, model: ctx.inputPrefixes[0], input: ctx.inputPrefixes[1] },
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export async function validateOutput(ctx: ValidateOutputContext): Promise<string | undefined> {
  const input = ctx.input as { object?: { model?: string; images?: string[] } }
  const modelKey = input.object?.model
  const images = input.object?.images
  if (typeof modelKey !== 'string' || !Array.isArray(images)) return 'the input event has no object.model / object.images'
  const expectedPath = join(ctx.dataDir, 'models', dirname(modelKey), 'expected.json')
  let expected: Expected
  try {
    expected = JSON.parse(await readFile(expectedPath, 'utf8')) as Expected
  } catch (err) {
    return `cannot read the golden classes ${expectedPath}: ${err instanceof Error ? err.message : String(err)}`
  }
  const byName = new Map(expected.images.map((img) => [img.name, img]))

  const out = ctx.output
  if (!isRecord(out) || !Array.isArray(out.predictions)) return `expected result {predictions: [...]}, got ${JSON.stringify(out)?.slice(0, 200)}`
  const predictions = out.predictions as unknown[]
  if (predictions.length !== images.length) return `expected ${images.length} predictions, got ${predictions.length}`
  const problems: string[] = []
  predictions.forEach((p, i) => {
    const key = images[i]
    if (!isRecord(p) || p.image !== key || typeof p.idx !== 'number') {
      problems.push(`prediction ${i} should be {image: '${key}', idx: <class>}, got ${JSON.stringify(p)}`)
      return
    }
    const golden = byName.get(basename(key))
    if (!golden) {
      problems.push(`no golden class for ${key} in ${expectedPath}`)
      return
    }
    if (p.idx === golden.idx) return
    // ONNX Runtime may order near-equal logits differently from torch; Python runs torch itself and must match.
    if (ctx.language === 'nodejs' && golden.margin < NEAR_TIE && p.idx === golden.second) return
    problems.push(`${key}: class ${p.idx}, expected ${golden.idx} (torch's top-2: ${golden.idx}, ${golden.second}; margin ${golden.margin.toExponential(2)})`)
  })
  return problems.length ? problems.join('; ') : undefined
}
