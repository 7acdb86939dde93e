/**
 * Test helper for the concurrent-index test: one stand-in `sebs bench` main
 * process that adds `count` runs to `<resultsDir>/index.json`, one update at
 * a time, as the reporter does at the end of a run. Starts when `<go>` exists,
 * so that all writers start together.
 * Usage: node --import tsx index-writer.ts <resultsDir> <writer> <count> <go>
 */
import { existsSync } from 'node:fs'
import { updateRunIndex } from '../run-index.ts'

const [resultsDir, writer, count, go] = process.argv.slice(2)
if (!resultsDir || !writer || !count || !go) throw new Error('usage: index-writer.ts <resultsDir> <writer> <count> <go>')
const deadline = Date.now() + 30_000
while (!existsSync(go)) {
  if (Date.now() > deadline) throw new Error(`${go} did not appear within 30 s`)
  await new Promise((resolve) => setTimeout(resolve, 2))
}
for (let i = 0; i < Number(count); i++) {
  await updateRunIndex(resultsDir, {
    runId: `run-${writer}-${i}`,
    createdAt: new Date().toISOString(),
    provider: 'local',
    benchmarks: ['901.echo'],
    invocations: 1,
    failures: 0,
  })
}
