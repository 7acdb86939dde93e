/**
 * 411 input logic that needs no PyTorch: sizes, the cached path of
 * generateInput (a prepared model directory is used as is), the error when no
 * Python with torch is available, and validateOutput's rules.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createInputContext, makeTempDir } from '../../_lib/testing/run-function.ts'
import { bucketsCount, generateInput, NEAR_TIE, SIZES, validateOutput, type Expected } from './input.ts'

let dataDir: string

beforeEach(async () => {
  dataDir = await makeTempDir('411-input')
})
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true })
})

const expected: Expected = {
  arch: 'resnet50',
  weights: { kind: 'seeded', seed: 411 },
  torch: '2.13.0+cpu',
  minMargin: 0.05,
  images: Array.from({ length: 16 }, (_, i) => ({
    name: `img-${String(i).padStart(2, '0')}.jpg`,
    idx: 100 + i,
    second: 200 + i,
    logit: 2,
    // Image 3 is a near-tie, as can happen with real weights.
    margin: i === 3 ? NEAR_TIE / 2 : 0.5,
  })),
}

/** A model directory as make_model.py leaves it. */
async function fakeModel(name: string, exp: Expected = expected): Promise<void> {
  const dir = join(dataDir, 'models', name)
  await mkdir(dir, { recursive: true })
  await writeFile(join(dir, 'expected.json'), JSON.stringify(exp))
  await writeFile(join(dir, 'model.pth'), 'pth')
  await writeFile(join(dir, 'model.onnx'), 'onnx')
  for (const img of exp.images) await writeFile(join(dir, img.name), img.name)
}

describe('411.image-recognition sizes', () => {
  it('grows from ResNet-18 on one image to ResNet-50 on a batch of 16', () => {
    expect(bucketsCount()).toEqual([2, 0])
    expect(SIZES).toEqual({
      test: { arch: 'resnet18', images: 1, batchSize: 1 },
      small: { arch: 'resnet50', images: 4, batchSize: 4 },
      large: { arch: 'resnet50', images: 16, batchSize: 16 },
    })
  })
})

describe('411.image-recognition generateInput (cached model)', () => {
  it('uploads the models to prefix 0 and the images to prefix 1 and names them in the event', async () => {
    await fakeModel('resnet50-s411-n16')
    const ctx = createInputContext({ benchmark: '411.image-recognition', size: 'small', dataDir, counts: bucketsCount() })
    const event = await generateInput(ctx)
    expect(event).toEqual({
      object: {
        model: 'resnet50-s411-n16/model.pth',
        onnx_model: 'resnet50-s411-n16/model.onnx',
        arch: 'resnet50',
        images: ['img-00', 'img-01', 'img-02', 'img-03'].map((n) => `resnet50-s411-n16/${n}.jpg`),
        batch_size: 4,
      },
      bucket: { bucket: ctx.bucket, model: '411.image-recognition-0-input', input: '411.image-recognition-1-input' },
    })
    expect(ctx.uploads.map((u) => [u.prefixIndex, u.key])).toEqual([
      [0, 'resnet50-s411-n16/model.pth'],
      [0, 'resnet50-s411-n16/model.onnx'],
      ...[0, 1, 2, 3].map((i) => [1, `resnet50-s411-n16/img-0${i}.jpg`]),
    ])
    const large = await generateInput(createInputContext({ benchmark: '411.image-recognition', size: 'large', dataDir, counts: bucketsCount() }))
    expect((large.object as { images: string[] }).images).toHaveLength(16)
  })

  it('says how to get PyTorch when no usable Python is there', async () => {
    const saved = process.env.SEBS_411_PYTHON
    process.env.SEBS_411_PYTHON = join(dataDir, 'no-such-python')
    try {
      const ctx = createInputContext({ benchmark: '411.image-recognition', size: 'test', dataDir, counts: bucketsCount() })
      // The import check is a step the user sees (importing torch alone took 20 s in a real first run).
      const tasks: string[] = []
      const withTasks = { ...ctx, task: <T>(label: string, work: (update: (detail: string) => void) => Promise<T>) => (tasks.push(label), work(() => {})) }
      await expect(generateInput(withTasks)).rejects.toThrow(/SEBS_411_PYTHON=.*no-such-python cannot import torch/)
      expect(tasks).toEqual([expect.stringMatching(/^checking that .*no-such-python imports torch, numpy, Pillow and onnx$/)])
    } finally {
      if (saved === undefined) delete process.env.SEBS_411_PYTHON
      else process.env.SEBS_411_PYTHON = saved
    }
  })

  it('rejects SEBS_411_WEIGHTS that point nowhere', async () => {
    const saved = process.env.SEBS_411_WEIGHTS
    process.env.SEBS_411_WEIGHTS = join(dataDir, 'missing.pth')
    try {
      const ctx = createInputContext({ benchmark: '411.image-recognition', size: 'small', dataDir, counts: bucketsCount() })
      await expect(generateInput(ctx)).rejects.toThrow(/SEBS_411_WEIGHTS=.*missing\.pth: no such file/)
    } finally {
      if (saved === undefined) delete process.env.SEBS_411_WEIGHTS
      else process.env.SEBS_411_WEIGHTS = saved
    }
  })
})

describe('411.image-recognition validateOutput', () => {
  const images = expected.images.slice(0, 4).map((img) => `resnet50-s411-n16/${img.name}`)
  const input = { object: { model: 'resnet50-s411-n16/model.pth', images } }
  const right = { predictions: images.map((image, i) => ({ image, idx: 100 + i })) }
  const validate = (output: unknown, language: 'python' | 'nodejs' = 'python') =>
    validateOutput({ dataDir, size: 'small', language, input, output })

  beforeEach(() => fakeModel('resnet50-s411-n16'))

  it('accepts the golden classes in either language', async () => {
    expect(await validate(right)).toBeUndefined()
    expect(await validate(right, 'nodejs')).toBeUndefined()
  })

  it('rejects a wrong class, saying which image and what torch said', async () => {
    const wrong = { predictions: right.predictions.map((p, i) => (i === 1 ? { ...p, idx: 7 } : p)) }
    expect(await validate(wrong)).toMatch(/img-01\.jpg: class 7, expected 101 \(torch's top-2: 101, 201/)
  })

  it('lets Node.js take torch\'s runner-up only on a near-tie; Python never', async () => {
    const tie = { predictions: right.predictions.map((p, i) => (i === 3 ? { ...p, idx: 203 } : p)) }
    expect(await validate(tie, 'nodejs')).toBeUndefined()
    expect(await validate(tie, 'python')).toMatch(/img-03\.jpg: class 203, expected 103/)
    const notTie = { predictions: right.predictions.map((p, i) => (i === 2 ? { ...p, idx: 202 } : p)) }
    expect(await validate(notTie, 'nodejs')).toMatch(/img-02\.jpg: class 202, expected 102/)
  })

  it('rejects a wrong shape, count or order', async () => {
    expect(await validate({ idx: 1 })).toMatch(/expected result \{predictions/)
    expect(await validate({ predictions: right.predictions.slice(1) })).toMatch(/expected 4 predictions, got 3/)
    expect(await validate({ predictions: [...right.predictions].reverse() })).toMatch(/prediction 0 should be/)
  })

  it('says so when the golden classes are missing', async () => {
    await rm(join(dataDir, 'models'), { recursive: true })
    expect(await validate(right)).toMatch(/cannot read the golden classes .*expected\.json/)
  })
})
