/**
 * Finds and removes the containers local runs left: function instances of a
 * crashed harness (stopped by their stdin lifeline, or still running) and
 * build or image-check containers of an interrupted build. Everything is
 * found by the labels the suite puts on what it creates, never by name.
 */
import type Docker from 'dockerode'
import type { Logger } from '../../../core/logger.ts'
import { dockerAvailable, dockerErrorMessage, isNotFound } from '../../docker/client.ts'
import { LABEL_FUNCTION, LABEL_KIND, LABEL_MANAGED, LABEL_RUN_ID } from '../../docker/labels.ts'
import type { SweptResource } from '../../types.ts'
import { dockerClient } from './docker-instance.ts'

export interface ContainerFilter {
  runId?: string
  functionName?: string
  /** Default: function instances only. `all`: also build and image-check containers. */
  kinds?: 'function-instance' | 'all'
}

/** The labelled containers (running or stopped) that match. */
export async function listSuiteContainers(docker: Docker, filter: ContainerFilter): Promise<Docker.ContainerInfo[]> {
  const labels = [`${LABEL_MANAGED}=true`]
  if (filter.kinds !== 'all') labels.push(`${LABEL_KIND}=function-instance`)
  if (filter.runId !== undefined) labels.push(`${LABEL_RUN_ID}=${filter.runId}`)
  if (filter.functionName !== undefined) labels.push(`${LABEL_FUNCTION}=${filter.functionName}`)
  return docker.listContainers({ all: true, filters: { label: labels } })
}

function describe(info: Docker.ContainerInfo): string {
  const fn = info.Labels?.[LABEL_FUNCTION]
  const kind = info.Labels?.[LABEL_KIND] ?? 'container'
  return `container ${info.Id.slice(0, 12)} (${fn ?? kind}, ${info.State})`
}

async function removeContainer(docker: Docker, id: string): Promise<boolean> {
  try {
    await docker.getContainer(id).remove({ force: true })
    return true
  } catch (err) {
    return isNotFound(err)
  }
}

/**
 * Removes every container of one function of one run, whichever process
 * started it (a bench worker's, a crashed run's). Returns how many went.
 */
export async function removeFunctionContainers(runId: string, functionName: string, docker = dockerClient()): Promise<number> {
  const found = await listSuiteContainers(docker, { runId, functionName })
  const removed = await Promise.all(found.map((c) => removeContainer(docker, c.Id)))
  return removed.filter(Boolean).length
}

/**
 * The Docker part of `provider.sweep()`: labelled containers of one run (or
 * of every run, plus build leftovers, when no run id is given). Without a
 * Docker engine there is nothing to sweep and the result is empty.
 */
export async function sweepContainers(options: { runId?: string; dryRun: boolean }, logger: Logger): Promise<SweptResource[]> {
  const available = await dockerAvailable()
  if (!available.ok) {
    logger.debug(`containers not swept: ${available.reason}`)
    return []
  }
  const docker = dockerClient()
  let found: Docker.ContainerInfo[]
  try {
    found = await listSuiteContainers(docker, {
      ...(options.runId !== undefined ? { runId: options.runId } : {}),
      kinds: options.runId === undefined ? 'all' : 'function-instance',
    })
  } catch (err) {
    logger.warn(`cannot list containers to sweep: ${dockerErrorMessage(err)}`)
    return []
  }
  const swept: SweptResource[] = []
  for (const info of found) {
    const runId = info.Labels?.[LABEL_RUN_ID]
    const removed = options.dryRun ? false : await removeContainer(docker, info.Id)
    if (!options.dryRun && !removed) logger.warn(`could not remove ${describe(info)}`)
    swept.push({ kind: 'container', id: describe(info), ...(runId !== undefined ? { runId } : {}), removed })
  }
  return swept
}
