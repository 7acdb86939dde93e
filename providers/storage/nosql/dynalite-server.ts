/**
 * An embedded DynamoDB-compatible server (dynalite) on loopback, for the
 * local provider and for tests. In memory by default; give `directory` to
 * keep the tables (LevelDB) across restarts.
 */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createRequire } from 'node:module'
import { mkdir } from 'node:fs/promises'
import { ProviderError } from '../../../core/errors.ts'

// dynalite is CommonJS and ships no types.
type DynaliteFactory = (options: {
  path?: string
  createTableMs?: number
  deleteTableMs?: number
  updateTableMs?: number
}) => Server

const require = createRequire(import.meta.url)

export interface DynaliteOptions {
  /** LevelDB directory for persistent tables; omitted: in memory. */
  directory?: string
  /** How long to wait for the server to listen (ms, default 10 s). */
  startTimeoutMs?: number
  /**
   * How long dynalite keeps a new table in CREATING (ms). DynamoDB takes a
   * few seconds; 50 ms still exercises the ACTIVE wait without slowing runs.
   */
  createTableMs?: number
}

export interface DynaliteServer {
  /** `http://127.0.0.1:<port>` */
  endpoint: string
  port: number
  close(): Promise<void>
}

/** Starts dynalite on 127.0.0.1 with a random port and resolves once it listens. */
export async function startDynalite(opts: DynaliteOptions = {}): Promise<DynaliteServer> {
  const startTimeoutMs = opts.startTimeoutMs ?? 10_000
  let factory: DynaliteFactory
  try {
    factory = require('dynalite') as DynaliteFactory
  } catch (err) {
    throw new ProviderError('dynalite', 'TOOL_MISSING', `cannot load dynalite (the embedded DynamoDB-compatible server): run \`npm ci\` in the project root`, { cause: err })
  }
  if (opts.directory) await mkdir(opts.directory, { recursive: true })
  const server = factory({
    ...(opts.directory ? { path: opts.directory } : {}),
    createTableMs: opts.createTableMs ?? 50,
    deleteTableMs: 50,
    updateTableMs: 50,
  })

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup()
      server.close()
      reject(new ProviderError('dynalite', 'TIMEOUT', `dynalite did not listen on 127.0.0.1 within ${startTimeoutMs} ms${opts.directory ? ` (data directory ${opts.directory}; is it locked by another dynalite?)` : ''}`))
    }, startTimeoutMs)
    const onError = (err: Error) => {
      cleanup()
      reject(new ProviderError('dynalite', 'STORAGE_FAILED', `dynalite failed to start: ${err.message}`, { cause: err }))
    }
    const onListening = () => {
      cleanup()
      resolve()
    }
    function cleanup() {
      clearTimeout(timer)
      server.off('error', onError)
      server.off('listening', onListening)
    }
    server.once('error', onError)
    server.once('listening', onListening)
    server.listen(0, '127.0.0.1')
  })

  const port = (server.address() as AddressInfo).port
  let closing: Promise<void> | undefined
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    close() {
      // Idempotent: the local provider and test teardown may both close it.
      closing ??= new Promise<void>((resolve, reject) => {
        // SDK clients keep connections alive; without this, close() waits for them.
        server.closeAllConnections?.()
        server.close((err) => (err ? reject(new ProviderError('dynalite', 'STORAGE_FAILED', `closing dynalite failed: ${err.message}`, { cause: err })) : resolve()))
      })
      return closing
    },
  }
}
