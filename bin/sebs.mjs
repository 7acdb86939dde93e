#!/usr/bin/env node
// Node 20 cannot run TypeScript by itself: register tsx's loader, then run
// the CLI from its sources. Works straight after `npm ci`, no build step.
import { register } from 'tsx/esm/api'

// The AWS SDK versions are pinned (newer ones need Node 22), so its warning
// about future releases is noise for users of this package.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
// `sebs bench` starts Vitest in this process. Loaded after register(),
// vitest/node's few hundred modules would each pass through tsx's loader
// hooks (a worker thread round trip apiece on Node 20): 1.5 s instead of
// 0.4 s natively. Loaded first, they are in the module cache when the CLI
// imports them.
if (process.argv[2] === 'bench') await import('vitest/node')
register()
const { run } = await import('../plugin/cli.ts')
await run(process.argv.slice(2))
