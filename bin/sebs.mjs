#!/usr/bin/env node
// Node 20 cannot run TypeScript by itself: register tsx's loader, then run
// the CLI from its sources. Works straight after `npm ci`, no build step.
import { register } from 'tsx/esm/api'

register()
const { run } = await import('../plugin/cli.ts')
await run(process.argv.slice(2))
