/**
 * `sebs cleanup` for Azure: every resource this suite creates lives in a
 * resource group tagged `sebs-managed=true` and `sebs-run-id=<run>`, so the
 * sweep lists the tagged groups (one ARM call with a tag filter), keeps those
 * of the requested run, and deletes each (a long-running operation, polled
 * to the end). Groups without the tag are never touched, even when their
 * names look like ours.
 */
import { errorMessage } from '../../core/errors.ts'
import type { Logger } from '../../core/logger.ts'
import type { SweptResource } from '../types.ts'
import type { AzureClients } from './clients.ts'
import { type AzureTimings, deleteResourceGroup } from './function-app.ts'
import { TAG_KIND, TAG_MANAGED, TAG_RUN_ID } from './naming.ts'

export interface SweepOptions {
  runId?: string
  dryRun: boolean
}

/** Groups deleted at the same time: each deletion is a server-side operation that takes minutes. */
const PARALLEL_DELETES = 4

export async function sweepAzure(
  c: AzureClients,
  ctx: { logger: Logger; timings: AzureTimings },
  options: SweepOptions,
): Promise<SweptResource[]> {
  const groups: Array<{ name: string; runId?: string; kind?: string }> = []
  for await (const g of c.resources.resourceGroups.list({ filter: `tagName eq '${TAG_MANAGED}' and tagValue eq 'true'` })) {
    const tags = g.tags ?? {}
    // The server filters by tag already; checked again so that a mock or a future API cannot widen the sweep.
    if (tags[TAG_MANAGED] !== 'true' || !g.name) continue
    if (options.runId !== undefined && tags[TAG_RUN_ID] !== options.runId) continue
    groups.push({ name: g.name, runId: tags[TAG_RUN_ID], kind: tags[TAG_KIND] })
  }
  const out: SweptResource[] = []
  const failures: string[] = []
  let next = 0
  const worker = async () => {
    while (next < groups.length) {
      const g = groups[next++]!
      const resource = { kind: `resource-group${g.kind ? `:${g.kind}` : ''}`, id: g.name, ...(g.runId ? { runId: g.runId } : {}) }
      if (options.dryRun) {
        out.push({ ...resource, removed: false })
        continue
      }
      try {
        await deleteResourceGroup(c, g.name, ctx)
        out.push({ ...resource, removed: true })
        ctx.logger.debug(`swept resource group ${g.name}`)
      } catch (err) {
        failures.push(`${g.name}: ${errorMessage(err)}`)
        out.push({ ...resource, removed: false })
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(PARALLEL_DELETES, groups.length) }, worker))
  for (const f of failures) ctx.logger.warn(`cleanup: could not delete resource group ${f}`)
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
}
