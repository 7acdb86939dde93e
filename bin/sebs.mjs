#!/usr/bin/env node
// The `sebs` command (main process): runs the built JavaScript in dist/. No
// TypeScript loader at run time: Node loads no TypeScript from node_modules,
// and a loader's hooks would slow every module Vitest loads. In this
// repository `npm ci` builds dist/ (the `prepare` script) and `npm run bench`
// rebuilds what changed first.
import { existsSync } from 'node:fs'

// The AWS SDK versions are pinned (newer ones need Node 22), so its warning
// about future releases is noise for users of this package.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
const cli = new URL('../dist/plugin/cli.js', import.meta.url)
if (!existsSync(cli)) {
  process.stderr.write('sebs: error [NOT_BUILT]: dist/ is missing (a clone installed without scripts?); run `npm run build` in the serverless-benchmarks folder.\n')
  process.exit(1)
}
const { run } = await import(cli.href)
await run(process.argv.slice(2))
