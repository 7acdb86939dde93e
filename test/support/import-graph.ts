/**
 * The product's import graph and the layer rules of DESIGN.md, for
 * test/architecture.test.ts (test process). Pure functions over a plain
 * graph (file → imported files), so the rules can be tested on synthetic
 * graphs; `readImportGraph` builds the real one with TypeScript's own
 * import scanner (static, `export … from`, dynamic `import()`, type-only).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import ts from 'typescript'

/** Repository-relative POSIX paths: file → the files it imports. */
export type ImportGraph = Map<string, string[]>

/**
 * Layers, lowest first (DESIGN.md): a file may import its own layer or a
 * lower one. `suites` and `reporters` share a rank but do not import each other.
 */
export const LAYERS: ReadonlyArray<{ folder: string; rank: number }> = [
  { folder: 'core', rank: 0 },
  { folder: 'analysis', rank: 1 },
  { folder: 'providers', rank: 2 },
  { folder: 'engine', rank: 3 },
  { folder: 'suites', rank: 4 },
  { folder: 'reporters', rank: 4 },
  { folder: 'plugin', rank: 5 },
]

/** The folders the graph is read from: every layer. */
export const PRODUCT_FOLDERS = LAYERS.map((l) => l.folder)

function isProductFile(path: string): boolean {
  return path.endsWith('.ts') && !path.endsWith('.d.ts') && !/\.test\.ts$/.test(path) && !path.split('/').includes('__fixtures__')
}

function listFiles(root: string, folder: string): string[] {
  const out: string[] = []
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      if (name === 'node_modules') continue
      const full = join(dir, name)
      if (statSync(full).isDirectory()) walk(full)
      else {
        const rel = relative(root, full).split(sep).join('/')
        if (isProductFile(rel)) out.push(rel)
      }
    }
  }
  walk(join(root, folder))
  return out
}

/** Reads the import graph of every non-test .ts file in the product folders below `root`. */
export function readImportGraph(root: string, folders: readonly string[] = PRODUCT_FOLDERS): ImportGraph {
  const graph: ImportGraph = new Map()
  for (const file of folders.flatMap((f) => listFiles(root, f))) {
    const info = ts.preProcessFile(readFileSync(join(root, file), 'utf8'), true, true)
    const targets = info.importedFiles
      .map((f) => f.fileName)
      .filter((s) => s.startsWith('.'))
      .map((s) => relative(root, resolve(root, dirname(file), s)).split(sep).join('/'))
      .filter((t) => t.endsWith('.ts'))
    graph.set(file, [...new Set(targets)])
  }
  return graph
}

function layerOf(path: string): { folder: string; rank: number } | undefined {
  const top = path.split('/')[0]
  return LAYERS.find((l) => l.folder === top)
}

/** The provider folder a path lies in (`providers/aws/…` → `aws`), given the provider names. */
function providerOf(path: string, providers: readonly string[]): string | undefined {
  const [top, second] = path.split('/')
  return top === 'providers' && second !== undefined && providers.includes(second) && path.split('/').length > 2 ? second : undefined
}

/**
 * Every import that breaks the layer rules: upward across layers, between
 * suites and reporters, or from one provider's folder (or a shared providers/
 * module other than the registry) into another provider's folder.
 */
export function layerViolations(graph: ImportGraph, providers: readonly string[]): string[] {
  const out: string[] = []
  for (const [from, targets] of graph) {
    const a = layerOf(from)
    if (!a) continue
    for (const to of targets) {
      const b = layerOf(to)
      if (!b) continue
      if (b.rank > a.rank) out.push(`${from} → ${to}: ${a.folder} may not import ${b.folder} (a higher layer)`)
      else if (b.rank === a.rank && a.folder !== b.folder) out.push(`${from} → ${to}: ${a.folder} and ${b.folder} do not import each other`)
      const pa = providerOf(from, providers)
      const pb = providerOf(to, providers)
      if (pb !== undefined && pa !== pb && from !== 'providers/registry.ts' && a.folder === 'providers') {
        out.push(`${from} → ${to}: only providers/registry.ts reaches into a provider's folder (providers/${pb}/)`)
      }
    }
  }
  return out
}

/** Import cycles (strongly connected components of more than one file, or a file importing itself). */
export function importCycles(graph: ImportGraph): string[][] {
  // Tarjan's algorithm, iterative-free recursion is fine at this size (a few hundred files).
  let index = 0
  const indices = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const cycles: string[][] = []
  const visit = (v: string) => {
    indices.set(v, index)
    low.set(v, index)
    index++
    stack.push(v)
    onStack.add(v)
    for (const w of graph.get(v) ?? []) {
      if (!indices.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, indices.get(w)!))
      }
    }
    if (low.get(v) === indices.get(v)) {
      const component: string[] = []
      let w: string
      do {
        w = stack.pop()!
        onStack.delete(w)
        component.push(w)
      } while (w !== v)
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(component.sort())
    }
  }
  for (const v of graph.keys()) if (!indices.has(v)) visit(v)
  return cycles
}
