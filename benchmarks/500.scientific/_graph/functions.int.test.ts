/**
 * Runs the graph benchmarks' Python (igraph) and Node (graphology) handlers
 * for real, outside the harness, on the test and small inputs; each result
 * must pass its benchmark's validateOutput (the TypeScript reference on the
 * same graph), and the two languages must agree with each other.
 *
 * The large size (n = 100,000, about 1M edges; Node takes tens of seconds)
 * runs only with SEBS_TEST_LARGE=1.
 */
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import type { BenchmarkInputModule } from '../../../core/benchmark-input.ts'
import type { Language, Size } from '../../../core/types.ts'
import * as bfs from '../503.graph-bfs/input.ts'
import * as mst from '../502.graph-mst/input.ts'
import * as pagerank from '../501.graph-pagerank/input.ts'
import { runFunction, type HandlerOutput } from '../../_lib/testing/run-function.ts'

const GROUP = dirname(dirname(fileURLToPath(import.meta.url)))
const BENCHMARKS: Array<[string, BenchmarkInputModule]> = [
  ['501.graph-pagerank', pagerank],
  ['502.graph-mst', mst],
  ['503.graph-bfs', bfs],
]
const SIZES: Size[] = process.env.SEBS_TEST_LARGE === '1' ? ['test', 'small', 'large'] : ['test', 'small']

async function invoke(benchmark: string, language: Language, event: Record<string, unknown>): Promise<HandlerOutput> {
  return (await runFunction({ benchmarkDir: join(GROUP, benchmark), language, event, timeoutMs: 240_000 })).output
}

describe.each(BENCHMARKS)('%s handlers', (benchmark, input) => {
  it.each(SIZES)('size %s: Python and Node outputs validate and agree', { timeout: 600_000 }, async (size) => {
    const event = await input.generateInput({
      dataDir: '/nonexistent',
      size,
      bucket: 'unused',
      inputPrefixes: [],
      outputPrefixes: [],
      upload: async () => {
        throw new Error('graph benchmarks upload nothing')
      },
    })
    const outputs: Partial<Record<Language, HandlerOutput>> = {}
    for (const language of ['python', 'nodejs'] as const) {
      const out = await invoke(benchmark, language, event)
      outputs[language] = out
      const problem = await input.validateOutput!({ dataDir: '/nonexistent', size, language, input: event, output: out.result })
      expect(problem, `${language}: ${JSON.stringify(out.result).slice(0, 300)}`).toBeUndefined()
      const measurement = out.measurement as Record<string, unknown>
      for (const name of ['graph_generating_time', 'compute_time']) {
        expect(Number.isInteger(measurement[name]) && (measurement[name] as number) >= 0, `${language} ${name}`).toBe(true)
      }
    }
    const python = outputs.python!.result as Record<string, unknown>
    const node = outputs.nodejs!.result as Record<string, unknown>
    if (benchmark === '501.graph-pagerank') {
      expect(node.n).toBe(python.n)
      expect(node.edges).toBe(python.edges)
      expect(Math.abs((node.first as number) - (python.first as number))).toBeLessThan(1e-6 * (python.first as number))
      const pyTop = python.top as Array<[number, number]>
      const nodeTop = node.top as Array<[number, number]>
      nodeTop.forEach(([, rank], i) => expect(Math.abs(rank - pyTop[i][1])).toBeLessThan(1e-6 * pyTop[i][1]))
    } else {
      // Exact integers: the same tree weight and id sum, the same layer sizes.
      expect(node).toEqual(python)
    }
  })
})
