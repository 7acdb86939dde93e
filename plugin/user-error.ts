/**
 * A user error as Vitest prints it (main process: the plugin's config hook
 * and the global setup). Its own module so that the global setup, which
 * Vitest loads through its module runner on every start, does not pull the
 * whole plugin (suites, reporters) in with it.
 */
import { inspect } from 'node:util'
import { SebsError } from '../core/errors.ts'

/**
 * A user error (bad config, missing credentials) as Vitest should print it:
 * the message only. Vitest prints startup errors with `console.error(err)` and
 * global-setup errors with their stack, own properties and cause, all noise
 * for a missing credential; so a fresh Error carries just the line
 * (`DEBUG=sebs:*` keeps the original, with its stack and cause).
 */
export function asPlainUserError(err: unknown): unknown {
  if (!(err instanceof SebsError) || process.env.DEBUG) return err
  const plain = new Error(`error [${err.code}]: ${err.message}`)
  Object.defineProperty(plain, 'name', { value: 'sebs', enumerable: false })
  plain.stack = `sebs: ${plain.message}`
  Object.defineProperty(plain, inspect.custom, { value: () => plain.stack, enumerable: false })
  return plain
}

/** True for an error made by asPlainUserError (its stack is the whole message, `sebs: error [CODE]: …`). */
export function isPlainUserError(err: unknown): err is Error & { stack: string } {
  return err instanceof Error && err.name === 'sebs' && typeof err.stack === 'string' && err.stack.startsWith('sebs: error [')
}
