#!/usr/bin/env node
// Runs a TypeScript script (e.g. scripts/perf.ts) on Node 20 through tsx.
import { register } from 'tsx/esm/api'
import { pathToFileURL } from 'node:url'
import { resolve } from 'node:path'

register()
const [script, ...args] = process.argv.slice(2)
if (!script) {
  process.stderr.write('usage: run-ts.mjs SCRIPT.ts [args…]\n')
  process.exit(1)
}
process.argv = [process.argv[0], resolve(script), ...args]
await import(pathToFileURL(resolve(script)).href)
