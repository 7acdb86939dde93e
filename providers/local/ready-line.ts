/**
 * Readiness of a local instance, process or container alike: its server
 * prints `SEBS_READY <port>` on stdout once it listens. Runs in whichever
 * process starts instances (global setup or a bench worker).
 */
import type { Readable } from 'node:stream'

const READY_RE = /^SEBS_READY (\d+)\s*$/

/** The instance did not print its ready line in time. */
export class ReadyTimeout extends Error {}

/**
 * Resolves with the port from the first `SEBS_READY <port>` line on `stdout`.
 * Rejects with ReadyTimeout after `timeoutMs`, or with what `onEnd` makes of
 * `ended`'s value when the instance ends first (an exit status, a container end).
 */
export function waitForReadyLine<E>(stdout: Readable, ended: Promise<E>, timeoutMs: number, onEnd: (end: E) => unknown): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let buffer = ''
    let done = false
    const finish = (fn: () => void): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      stdout.off('data', onData)
      fn()
    }
    const onData = (chunk: Buffer): void => {
      buffer += chunk.toString('utf8')
      let newline: number
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline)
        buffer = buffer.slice(newline + 1)
        const match = READY_RE.exec(line)
        if (match) {
          finish(() => resolve(Number(match[1])))
          return
        }
      }
    }
    const timer = setTimeout(() => finish(() => reject(new ReadyTimeout())), timeoutMs)
    stdout.on('data', onData)
    void ended.then((end) => finish(() => reject(onEnd(end))))
  })
}

/** What a ReadyTimeout means for a user, the same for process and container instances. */
export function readyTimeoutMessage(what: 'instance' | 'container', functionName: string, timeoutMs: number): string {
  return (
    `the ${what} of ${functionName} did not print SEBS_READY within ${timeoutMs / 1000} s ` +
    `(raise the local provider's startTimeoutMs if its runtime is slow to start)`
  )
}
