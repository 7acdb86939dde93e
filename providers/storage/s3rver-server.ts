/**
 * An embedded S3-compatible server (s3rver 3.7.1) on loopback, for the local
 * provider and for tests. Its data lives in a persistent directory, so
 * uploaded benchmark inputs survive across runs and need not be regenerated.
 */
import { mkdir } from 'node:fs/promises'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import type { Server } from 'node:http'
import { SebsError, errorMessage } from '../../core/errors.ts'

/** The part of s3rver's API we use (the package ships no types). */
interface S3rverInstance {
  run(): Promise<AddressInfo>
  close(): Promise<void>
  httpServer?: Server
  on(event: 'error', listener: (err: unknown) => void): void
}
type S3rverConstructor = new (options: {
  address: string
  port: number
  silent: boolean
  directory: string
  resetOnClose: boolean
  vhostBuckets: boolean
  configureBuckets: unknown[]
}) => S3rverInstance

const require = createRequire(import.meta.url)

/** s3rver accepts this pair (its built-in account); anything else is refused. */
export const S3RVER_CREDENTIALS = { accessKey: 'S3RVER', secretKey: 'S3RVER' } as const

export interface RunningS3rver {
  /** `http://127.0.0.1:<port>` */
  endpoint: string
  port: number
  accessKey: string
  secretKey: string
  /** Stops the server; the data directory is kept. Safe to call twice. */
  close(): Promise<void>
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SebsError('TIMEOUT', `${what} did not finish within ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/**
 * Starts s3rver on 127.0.0.1 with a random port, storing objects in
 * `directory` (kept on close). Resolves once it listens.
 */
export async function startS3rver(opts: { directory: string; timeoutMs?: number }): Promise<RunningS3rver> {
  const timeoutMs = opts.timeoutMs ?? 10_000
  await mkdir(opts.directory, { recursive: true })
  const S3rver = require('s3rver') as S3rverConstructor
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: opts.directory,
    // Persistent on purpose: inputs uploaded by one run are reused by the next.
    resetOnClose: false,
    // Clients use path-style requests; no Host-header bucket routing needed.
    vhostBuckets: false,
    configureBuckets: [],
  })
  // Koa emits request-level errors here; they are answered with an S3 error
  // response already, so they only need to be kept from becoming unhandled.
  server.on('error', () => {})

  let address: AddressInfo
  try {
    address = await withTimeout(server.run(), timeoutMs, 'Starting s3rver')
  } catch (err) {
    await server.close().catch(() => {})
    throw new SebsError(
      'STORAGE_FAILED',
      `Could not start the embedded S3 server (s3rver) with data in ${opts.directory}: ${errorMessage(err)}`,
      { cause: err },
    )
  }

  let closing: Promise<void> | undefined
  const close = () => {
    closing ??= (async () => {
      const http = server.httpServer
      // Node ≥19 closes idle keep-alive sockets on close(); active ones would
      // delay it indefinitely, so they are cut after a grace period.
      const force = setTimeout(() => http?.closeAllConnections(), 2000)
      try {
        await withTimeout(server.close(), 10_000, 'Stopping s3rver')
      } catch {
        http?.closeAllConnections()
      } finally {
        clearTimeout(force)
      }
    })()
    return closing
  }

  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    port: address.port,
    ...S3RVER_CREDENTIALS,
    close,
  }
}
