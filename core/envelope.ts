/**
 * The one check of a wrapper envelope on the harness side (main process and
 * bench workers): every provider's invoke path asks it whether what a
 * function answered has the fields every record needs.
 */
import type { WrapperEnvelope } from './types.ts'

/** What is wrong with an envelope, or undefined when it has the fields every record needs. */
export function envelopeProblem(envelope: unknown): string | undefined {
  if (envelope === null || typeof envelope !== 'object' || Array.isArray(envelope)) return `expected an object, got ${JSON.stringify(envelope)?.slice(0, 200)}`
  const e = envelope as Partial<WrapperEnvelope>
  for (const key of ['begin', 'end', 'computeTimeUs'] as const) {
    if (typeof e[key] !== 'number') return `'${key}' is not a number`
  }
  if (typeof e.isCold !== 'boolean') return `'isCold' is not a boolean`
  if (typeof e.containerId !== 'string' || e.containerId === '') return `'containerId' is missing`
  if (typeof e.requestId !== 'string') return `'requestId' is missing`
  return undefined
}

/** True when `value` is a wrapper envelope (see {@link envelopeProblem}). */
export function isWrapperEnvelope(value: unknown): value is WrapperEnvelope {
  return envelopeProblem(value) === undefined
}
