/**
 * The provider conformance suite against the local provider with the docker
 * runtime: the same behaviour as the process runtime, through containers
 * (storage and NoSQL reached from inside the container over the host
 * network). Skipped, with the reason printed, when no Docker engine answers.
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect } from 'vitest'
import { createLogger } from '../../../core/logger.ts'
import { defineProviderConformance } from '../../../test/support/conformance/conformance.ts'
import { createDockerClient, isNotFound } from '../../docker/client.ts'
import { dockerForTests, dockerSuiteTitle, ensureBaseImage } from '../../../test/support/docker.ts'
import type { LocalFunction } from '../local-function.ts'
import { LocalProvider } from '../local-provider.ts'
import { listSuiteContainers } from './docker-sweep.ts'
import { testBuildContext } from '../../../test/support/build-context.ts'

const logger = createLogger('sebs', { quiet: true })
const buildContext = testBuildContext(logger)
const runId = `conformance-docker-${randomBytes(4).toString('hex')}`

const available = await dockerForTests('providers/local/container/docker-conformance.int.test.ts')

let stateDir: string | undefined
let provider: LocalProvider | undefined

async function running(ids: string[]): Promise<number> {
  const docker = createDockerClient()
  let count = 0
  for (const id of ids) {
    try {
      if ((await docker.getContainer(id).inspect()).State?.Running) count++
    } catch (err) {
      if (!isNotFound(err)) throw err
    }
  }
  return count
}

describe.skipIf(!available.ok)(dockerSuiteTitle('local provider, docker runtime', available), () => {
  afterAll(async () => {
    await provider?.close()
    if (provider) await provider.sweep({ runId, dryRun: false })
    if (available.ok) expect(await listSuiteContainers(createDockerClient(), { runId })).toEqual([])
    if (stateDir) await rm(stateDir, { recursive: true, force: true })
  }, 60_000)

  defineProviderConformance(
    'local (docker runtime)',
    async () => {
      await Promise.all([ensureBaseImage('python'), ensureBaseImage('nodejs')])
      stateDir = await mkdtemp(join(tmpdir(), 'sebs-docker-conformance-'))
      provider = new LocalProvider({ runId, cacheDir: stateDir, logger, options: { runtime: 'docker' } })
      await provider.checkCredentials()
      return {
        provider,
        buildContext,
        runId,
        async watchInstances(fn) {
          const ids = (fn as LocalFunction).instances().map((i) => i.containerId!)
          return () => running(ids)
        },
        async teardown() {},
      }
    },
    { nosql: true },
  )
})
