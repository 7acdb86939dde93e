/**
 * The code-package-size sweep on the real local provider (python and
 * nodejs): `updateCode` runs instances from a padded copy of the package,
 * the first invocation after a change is cold and later ones warm, records
 * carry the padding, and padding 0 brings the function back to its own
 * package (the padded copy is removed).
 */
import { existsSync, readFileSync, readlinkSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { InvocationRecord } from '../core/types.ts'
import { CODE_PADDING_FILE } from '../providers/types.ts'
import { usable } from './context.ts'
import { coldStart } from './cold-start.ts'
import type { ExperimentSettings } from './experiment.ts'
import { invocationOverhead } from './invocation-overhead.ts'
import { createLocalTestbed, type LocalTestbed } from '../test/support/local-experiments.ts'

const MB5 = 5 * 1024 * 1024

function settings(over: Partial<ExperimentSettings> = {}): ExperimentSettings {
  return { repetitions: 2, memory: [128], options: {}, ...over }
}

/** The directory a process runs in (its cwd), from /proc. */
function cwdOf(pid: number): string {
  return readlinkSync(`/proc/${pid}/cwd`)
}

let bed: LocalTestbed
beforeAll(async () => {
  bed = await createLocalTestbed()
})
afterAll(async () => {
  await bed?.close()
})

describe.each(['python', 'nodejs'] as const)('local updateCode and the code sweep (%s)', (language) => {
  it('runs instances from a padded copy, cold first then warm, and restores the package with 0', async () => {
    const fn = await bed.deploy('910.sleep', language)
    const ctx = await bed.context(fn, { experiment: 'invocation-overhead', payload: { sleep_ms: 1 } })
    const own = (fn.handle.data as { packageDir: string }).packageDir
    try {
      // Warm the function on its own package first: the change must make the next call cold.
      await ctx.measure({ phase: 'warm', repetition: 0, discard: 'priming' })
      expect((await ctx.measure({ phase: 'warm', repetition: 1 })).record.isCold).toBe(false)

      const padded = await ctx.setCodePadding(MB5)
      expect(padded.paddingBytes).toBe(MB5)
      const first = await ctx.measure({ phase: 'cold', repetition: 0, params: { codePaddingBytes: ctx.codePaddingBytes } })
      const second = await ctx.measure({ phase: 'warm', repetition: 1, params: { codePaddingBytes: ctx.codePaddingBytes } })
      expect(first.record.state).toBe('ok')
      expect(first.record.isCold).toBe(true)
      expect(second.record.isCold).toBe(false)
      expect(second.record.containerId).toBe(first.record.containerId)
      expect(first.record.params?.codePaddingBytes).toBe(MB5)

      // The instance's working directory is the padded copy, with the padding file of the right size.
      const [instance] = fn.instances()
      expect(instance).toBeDefined()
      const dir = cwdOf(instance!.pid)
      expect(dir).toBe(instance!.packageDir)
      expect(dir).not.toBe(own)
      expect(statSync(join(dir, CODE_PADDING_FILE)).size).toBe(MB5)
      expect(padded.packageSizeBytes).toBeGreaterThan(MB5)
      // The cached package itself is untouched.
      expect(existsSync(join(own, CODE_PADDING_FILE))).toBe(false)
      // Random, so incompressible: no run of 4 KiB of zeros (a sparse or zero-filled file).
      const head = readFileSync(join(dir, CODE_PADDING_FILE)).subarray(0, 4096)
      expect(head.some((b) => b !== 0)).toBe(true)

      // Back to 0: cold again, from the package itself; the padded copy is gone.
      const restored = await ctx.setCodePadding(0)
      expect(restored.paddingBytes).toBe(0)
      // The package's own size (a copy may also hold bytecode an earlier instance wrote).
      expect(padded.packageSizeBytes - restored.packageSizeBytes).toBeGreaterThanOrEqual(MB5)
      const after = await ctx.measure({ phase: 'cold', repetition: 2 })
      expect(after.record.isCold).toBe(true)
      expect(cwdOf(fn.instances()[0]!.pid)).toBe(own)
      expect(existsSync(dir)).toBe(false)
    } finally {
      await fn.close()
    }
  })
})

describe.each(['python', 'nodejs'] as const)('experiments with codeSizes on the local provider (%s)', (language) => {
  it('invocation-overhead: code points redeploy, warm points are warm, cold points cold, records carry the sizes', async () => {
    const fn = await bed.deploy('910.sleep', language)
    const ctx = await bed.context(fn, { experiment: 'invocation-overhead', payload: { sleep_ms: 1 } })
    const own = (fn.handle.data as { packageDir: string }).packageDir
    try {
      const s = settings({ options: { codeSizes: [0, MB5], clockSync: 'none' } })
      const points = invocationOverhead.plan(s, { provider: 'local', functionsOnThisMachine: true, language, deployedMemory: 128 })
      expect(points.map((p) => p.name)).toEqual([`code 0B warm`, `code 0B cold`, `code ${MB5}B warm`, `code ${MB5}B cold`])
      const state = new Map<string, unknown>()
      const records: InvocationRecord[] = []
      for (const point of points) {
        const out = await invocationOverhead.run(ctx, point, s, state)
        records.push(...out.records)
        expect(out.data).toMatchObject({ codePaddingBytes: point.codePaddingBytes, phase: point.phase })
        // While a padded point runs, its instance runs from a directory with the padding.
        const dir = fn.instances()[0]?.packageDir
        if (point.codePaddingBytes) expect(statSync(join(dir!, CODE_PADDING_FILE)).size).toBe(MB5)
        else if (dir) expect(dir).toBe(own)
      }
      const used = records.filter(usable)
      expect(used).toHaveLength(8)
      for (const r of used) {
        expect(r.isCold).toBe(r.phase === 'cold')
        expect([0, MB5]).toContain(r.params?.codePaddingBytes)
        expect(typeof r.params?.codePackageBytes).toBe('number')
      }
      const sizes = (bytes: number) => new Set(used.filter((r) => r.params?.codePaddingBytes === bytes).map((r) => r.params?.codePackageBytes as number))
      const [small] = [...sizes(0)]
      const [big] = [...sizes(MB5)]
      expect(sizes(0).size).toBe(1)
      expect(big! - small!).toBeGreaterThanOrEqual(MB5)

      // The end of a case (suites/experiment-suite.ts) restores the function's own package.
      await ctx.restoreCode()
      expect(ctx.codePaddingBytes).toBe(0)
      const again = await ctx.measure({ phase: 'cold', repetition: 0 })
      expect(again.record.isCold).toBe(true)
      expect(fn.instances()[0]!.packageDir).toBe(own)
    } finally {
      await fn.close()
    }
  })

  it('cold-start: one point per code size × memory, each record with its padding', async () => {
    const fn = await bed.deploy('910.sleep', language)
    const ctx = await bed.context(fn, { experiment: 'cold-start', payload: { sleep_ms: 1 } })
    try {
      const s = settings({ options: { codeSizes: [MB5] } })
      const [point, ...rest] = coldStart.plan(s, { provider: 'local', functionsOnThisMachine: true, language, deployedMemory: 128 })
      expect(rest).toEqual([])
      expect(point).toMatchObject({ name: `cold-start 128MB code ${MB5}B`, memory: 128, codePaddingBytes: MB5 })
      const out = await coldStart.run(ctx, point!, s, new Map())
      expect(out.records.filter(usable)).toHaveLength(4)
      for (const r of out.records) expect(r.params).toMatchObject({ memory: 128, codePaddingBytes: MB5 })
      expect(out.records.filter((r) => r.phase === 'cold').every((r) => r.isCold)).toBe(true)
      expect((out.data!.medians as { importUs?: number }).importUs).toBeGreaterThan(0)
      // The last warm call's instance still runs: it runs from the padded copy.
      expect(statSync(join(fn.instances()[0]!.packageDir, CODE_PADDING_FILE)).size).toBe(MB5)
      await ctx.restoreCode()
    } finally {
      await fn.close()
    }
  })
})
