/**
 * Azurite's blob service for tests: the package's `azurite-blob` binary on
 * 127.0.0.1 with port 0 (Azurite prints the port it got), a temporary data
 * location, no telemetry, and `--skipApiVersionCheck` (@azure/storage-blob
 * 12.32 speaks a newer API version than Azurite 3.35 knows).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
const BINARY = join(REPO_ROOT, 'node_modules', '.bin', 'azurite-blob')

/** Azurite's well-known development account (public, documented; not a secret). */
export const DEV_ACCOUNT = 'devstoreaccount1'
export const DEV_ACCOUNT_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

export interface RunningAzurite {
  blobEndpoint: string
  connectionString: string
  port: number
  close(): Promise<void>
}

export async function startAzurite(options: { timeoutMs?: number } = {}): Promise<RunningAzurite> {
  const location = await mkdtemp(join(tmpdir(), 'sebs-azurite-'))
  const child: ChildProcess = spawn(
    BINARY,
    ['--blobHost', '127.0.0.1', '--blobPort', '0', '--location', location, '--silent', '--disableTelemetry', '--skipApiVersionCheck'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  const timeoutMs = options.timeoutMs ?? 30_000
  let output = ''
  const port = await new Promise<number>((resolvePort, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`Azurite did not report a listening port within ${timeoutMs} ms. Output:\n${output}`))
    }, timeoutMs)
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8')
      const m = /listens on https?:\/\/127\.0\.0\.1:(\d+)/.exec(output)
      if (m) {
        clearTimeout(timer)
        resolvePort(Number(m[1]))
      }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`Azurite exited (${code ?? signal}) before listening. Output:\n${output}`))
    })
  })
  // Keep draining the pipes so that a chatty Azurite never blocks on a full pipe.
  child.stdout!.resume()
  child.stderr!.resume()
  const blobEndpoint = `http://127.0.0.1:${port}/${DEV_ACCOUNT}`
  return {
    blobEndpoint,
    port,
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT};AccountKey=${DEV_ACCOUNT_KEY};BlobEndpoint=${blobEndpoint};`,
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((r) => child.once('exit', () => r()))
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
        await exited
        clearTimeout(timer)
      }
      await rm(location, { recursive: true, force: true })
    },
  }
}
