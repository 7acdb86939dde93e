/**
 * One invocation over an instance's HTTP trigger, shared by the process
 * runtime (instance.ts) and the container runtime (container/docker-instance.ts):
 * POST the event, parse the envelope, and turn every way it can go wrong
 * into an InstanceResponse (never a rejection).
 */
import http from 'node:http'
import { delay } from '../../core/delay.ts'
import { errorMessage } from '../../core/errors.ts'
import type { WrapperEnvelope } from '../../core/types.ts'
import type { InstanceResponse } from './function-instance.ts'

/** What the request needs from the instance it goes to. */
export interface HttpInvokeTarget {
  port: number
  /** A keep-alive agent with one socket: an instance serves one request at a time. */
  agent: http.Agent
  /** `instance` or `container`: the word error messages use. */
  noun: string
  /** False once the instance has ended. */
  readonly alive: boolean
  /** Calls `listener` once when the instance ends; returns the unsubscribe. */
  onEnd(listener: () => void): () => void
  /** How the (ended) instance ended, as a response: exit status, OOM kill, … */
  endResponse(): InstanceResponse
  /** Resolves true once the instance has ended, false after `ms` if it has not. */
  waitForEnd(ms: number): Promise<boolean>
  /** Kills the instance (an invocation overran its timeout). */
  kill(): void
}

/** A target from an instance's parts: its port, its end listeners and the promise of its end. */
export function createHttpTarget(init: {
  port: number
  noun: string
  isAlive: () => boolean
  endListeners: Set<() => void>
  ended: Promise<unknown>
  endResponse: () => InstanceResponse
  kill: () => void
}): HttpInvokeTarget {
  return {
    port: init.port,
    // One connection per instance: an instance serves one request at a time.
    agent: new http.Agent({ keepAlive: true, maxSockets: 1 }),
    noun: init.noun,
    get alive() {
      return init.isAlive()
    },
    onEnd: (listener) => {
      init.endListeners.add(listener)
      return () => init.endListeners.delete(listener)
    },
    endResponse: init.endResponse,
    waitForEnd: (ms) => Promise.race([init.ended.then(() => true), delay(ms, { unref: true }).then(() => false)]),
    kill: init.kill,
  }
}

/**
 * Sends one event. Resolves (never rejects) with the outcome; on timeout the
 * instance is killed, as a platform kills a sandbox that overran.
 */
export function invokeOverHttp(target: HttpInvokeTarget, body: string, requestId: string, timeoutMs: number): Promise<InstanceResponse> {
  return new Promise<InstanceResponse>((resolve) => {
    let settled = false
    let timer: NodeJS.Timeout | undefined
    let unsubscribe = (): void => {}
    const finish = (response: InstanceResponse): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      unsubscribe()
      resolve(response)
    }
    const ended = (): void => finish(target.endResponse())
    if (!target.alive) {
      ended()
      return
    }
    unsubscribe = target.onEnd(ended)

    const request = http.request(
      {
        host: '127.0.0.1',
        port: target.port,
        method: 'POST',
        path: '/',
        agent: target.agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'x-sebs-request-id': requestId,
        },
      },
      (response) => {
        const chunks: Buffer[] = []
        response.on('data', (chunk: Buffer) => chunks.push(chunk))
        response.on('error', (err) => onRequestError(err))
        response.on('end', () => {
          const text = (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString('utf8')
          if (response.statusCode !== 200) {
            finish({ kind: 'failed', message: `the ${target.noun} answered HTTP ${response.statusCode}: ${text.slice(0, 1000)}` })
            return
          }
          try {
            finish({ kind: 'ok', envelope: JSON.parse(text) as WrapperEnvelope })
          } catch (err) {
            finish({ kind: 'failed', message: `the ${target.noun} answered with invalid JSON (${errorMessage(err)}): ${text.slice(0, 200)}` })
          }
        })
      },
    )
    const onRequestError = (err: Error): void => {
      if (settled) return
      // The usual cause is the instance dying mid-request: wait (briefly) for
      // its end so the error says "exited with code 3" or "OOMKilled", not
      // "socket hang up".
      void target.waitForEnd(3000).then((hasEnded) => {
        if (hasEnded) ended()
        else finish({ kind: 'failed', message: `the request to the ${target.noun} failed: ${err.message}` })
      })
    }
    request.on('error', onRequestError)

    timer = setTimeout(() => {
      if (settled) return
      finish({ kind: 'timeout' })
      target.kill()
      request.destroy()
    }, timeoutMs)

    request.end(body)
  })
}
