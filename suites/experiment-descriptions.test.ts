/**
 * One description per experiment (vitest worker): the plugin's list
 * (index.ts) and the workers' registry (registry.ts) are derived from the
 * experiments' own `defineExperiment` objects, and each one's settings help
 * names exactly the keys its options schema accepts (and
 * perhaps a common one it uses).
 */
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { ALL_EXPERIMENTS, EXPERIMENTS } from './index.ts'
import { commonOptionsSchema } from './experiment.ts'
import { EXPERIMENT_IMPLEMENTATIONS } from './registry.ts'

describe('experiment descriptions', () => {
  it('names are unique; the list and the registry hold the same experiments, in the same order', () => {
    const names = ALL_EXPERIMENTS.map((e) => e.name)
    expect(new Set(names).size).toBe(names.length)
    expect(Object.keys(EXPERIMENTS)).toEqual(names)
    expect(Object.keys(EXPERIMENT_IMPLEMENTATIONS)).toEqual(names)
    expect(names).toEqual(['perf-cost', 'invocation-overhead', 'network-ping-pong', 'eviction-model', 'cold-start', 'time', 'memory', 'disk-io', 'papi'])
    for (const e of ALL_EXPERIMENTS) {
      expect(EXPERIMENTS[e.name]).toEqual({
        description: e.description,
        settings: e.settings,
        ...(e.providers ? { providers: e.providers } : {}),
        ...(e.sweepsMemory ? { sweepsMemory: true } : {}),
      })
    }
  })

  it.each(ALL_EXPERIMENTS.map((e) => [e.name, e] as const))('%s: the settings help names exactly the options schema’s keys', (_name, e) => {
    const own = e.options instanceof z.ZodObject ? Object.keys(e.options.shape).sort() : []
    // The help may also document a common setting the experiment gives its own meaning (eviction-model's repetitions).
    const documented = Object.keys(e.settings).filter((k) => !(k in commonOptionsSchema.shape)).sort()
    expect(documented).toEqual(own)
  })
})
