#!/usr/bin/env node
/**
 * `npm run build` (also `prepare` and `prepack`), run by npm in its own node
 * process: compiles the product folders to dist/ with tsc (tsconfig.build.json,
 * incremental) and copies next to the JavaScript every non-TypeScript file the
 * code reads at run time (function wrappers, storage/NoSQL modules, the Python
 * bridge, the built-in benchmarks' config.json and function code, READMEs).
 *
 * Why copy rather than resolve from the source folders: the code finds its
 * assets relative to its own module (`new URL('./wrappers', import.meta.url)`),
 * and with the same relative layout under dist/ that one rule holds for the
 * sources (tests, development) and the built package alike.
 */
import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const DIST = join(ROOT, 'dist')
/** The folders that make up the package (the same as tsconfig.build.json's include). */
export const PRODUCT_DIRS = ['core', 'engine', 'analysis', 'plugin', 'providers', 'reporters', 'suites', 'benchmarks']
/** Folders and files that are the project's own tests and never ship. */
const EXCLUDED_DIR = new Set(['node_modules', '__fixtures__', 'testing', 'test-support', '__pycache__', '.venv'])
const isTestFile = (name) => /\.test\.[cm]?[jt]s$/.test(name) || /^test_.*\.py$/.test(name)

/** Copies the run-time assets of `dir` (relative to the repo root) into dist/, keeping their paths. */
function copyAssets(dir) {
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const rel = join(dir, entry.name)
    if (entry.isDirectory()) {
      if (!EXCLUDED_DIR.has(entry.name)) copyAssets(rel)
      continue
    }
    if (isTestFile(entry.name)) continue
    // TypeScript is tsc's; everything else (wrappers, function code, JSON, Python) is copied as it is.
    if (entry.name.endsWith('.ts')) continue
    const target = join(DIST, rel)
    mkdirSync(dirname(target), { recursive: true })
    cpSync(join(ROOT, rel), target, { preserveTimestamps: true })
  }
}

function main() {
  const clean = process.argv.includes('--clean')
  if (clean) rmSync(DIST, { recursive: true, force: true })
  const started = Date.now()
  const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '--build', join(ROOT, 'tsconfig.build.json')], {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
  })
  if (tsc.status !== 0) {
    process.stderr.write(`build: tsc failed (exit ${tsc.status ?? tsc.signal}); dist/ is incomplete.\n`)
    process.exit(1)
  }
  for (const dir of PRODUCT_DIRS) if (existsSync(join(ROOT, dir)) && statSync(join(ROOT, dir)).isDirectory()) copyAssets(dir)
  if (!process.argv.includes('--quiet')) process.stdout.write(`build: dist/ ready in ${((Date.now() - started) / 1000).toFixed(1)} s (${relative(process.cwd(), DIST) || '.'})\n`)
}

main()
