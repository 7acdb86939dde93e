/**
 * The import-layer rules of DESIGN.md, checked on the real import graph
 * (test process): no cycle, no import up a layer, suites and reporters apart,
 * no provider reaching into another provider's folder. The rules themselves
 * are first shown to fail on synthetic graphs.
 */
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { PROVIDERS } from '../core/types.ts'
import { type ImportGraph, importCycles, layerViolations, readImportGraph } from './support/import-graph.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const graph = (edges: Record<string, string[]>): ImportGraph => new Map(Object.entries(edges))

describe('the layer rules (synthetic graphs)', () => {
  it('find an upward import, suites ↔ reporters, and a provider reaching into another', () => {
    const violations = layerViolations(
      graph({
        'engine/measure.ts': ['plugin/cli.ts', 'core/types.ts'],
        'providers/aws/index.ts': ['providers/local/paths.ts', 'providers/storage/s3-storage.ts'],
        'providers/storage/s3-storage.ts': ['providers/azure/blob-storage.ts'],
        'providers/registry.ts': ['providers/aws/index.ts'],
        'suites/context.ts': ['reporters/summary.ts'],
        'analysis/cost.ts': ['core/types.ts'],
        'plugin/cli.ts': ['engine/settings.ts'],
      }),
      ['local', 'aws', 'azure'],
    )
    expect(violations).toEqual([
      'engine/measure.ts → plugin/cli.ts: engine may not import plugin (a higher layer)',
      "providers/aws/index.ts → providers/local/paths.ts: only providers/registry.ts reaches into a provider's folder (providers/local/)",
      "providers/storage/s3-storage.ts → providers/azure/blob-storage.ts: only providers/registry.ts reaches into a provider's folder (providers/azure/)",
      'suites/context.ts → reporters/summary.ts: suites and reporters do not import each other',
    ])
  })

  it('find cycles, type-only ones included, and nothing in an acyclic graph', () => {
    expect(importCycles(graph({ 'a.ts': ['b.ts'], 'b.ts': ['c.ts'], 'c.ts': ['a.ts'], 'd.ts': ['a.ts'] }))).toEqual([['a.ts', 'b.ts', 'c.ts']])
    expect(importCycles(graph({ 'a.ts': ['a.ts'] }))).toEqual([['a.ts']])
    expect(importCycles(graph({ 'a.ts': ['b.ts', 'c.ts'], 'b.ts': ['c.ts'], 'c.ts': [] }))).toEqual([])
  })
})

describe('the import graph of this repository', () => {
  const real = readImportGraph(root)

  it('is read from every product folder, with the imports TypeScript sees', () => {
    expect(real.size).toBeGreaterThan(100)
    expect(real.get('plugin/global-setup.ts')).toContain('providers/registry.ts')
    // Dynamic imports count: the registry reaches each provider lazily.
    expect(real.get('providers/registry.ts')).toEqual(expect.arrayContaining(['providers/local/index.ts', 'providers/aws/index.ts', 'providers/azure/index.ts']))
  })

  it('imports only downward, and no provider reaches into another', () => {
    expect(layerViolations(real, PROVIDERS)).toEqual([])
  })

  it('has no import cycle', () => {
    expect(importCycles(real)).toEqual([])
  })
})
