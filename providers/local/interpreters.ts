/**
 * The interpreters local instances run (main process): the real executable
 * and version behind a configured command (`python3`, a pyenv shim, a venv),
 * asked once per process. A small module of its own so that the plugin's
 * config hook can start the probe (prepareInterpreters) while Vitest is
 * still starting, without loading the provider.
 */
import { execFile } from 'node:child_process'
import { ProviderError, errorMessage } from '../../core/errors.ts'
import type { Language } from '../../core/types.ts'

export interface ResolvedInterpreter {
  /** The interpreter binary itself (pyenv shims and PATH lookups resolved). */
  executable: string
  /** `python3.11.7` / `node20.20.2`: part of the package hash. */
  version: string
}

/**
 * Answers by language and command, shared by every copy of this module in
 * the process: the plugin's config hook starts a probe (prepareInterpreters)
 * and the global setup, which may load its own copy of the provider through
 * Vite's module runner, reads the answer.
 */
const interpreterCache: Map<string, Promise<ResolvedInterpreter>> = ((globalThis as Record<symbol, unknown>)[Symbol.for('serverless-benchmarks.interpreters')] ??= new Map()) as Map<string, Promise<ResolvedInterpreter>>

/**
 * Asks an interpreter for its real executable and version. Instances run the
 * resolved binary: a pyenv shim costs more than a second per process start,
 * which would otherwise be measured as cold-start time. Rejects with
 * TOOL_MISSING when the command cannot run.
 */
export function resolveInterpreter(language: Language, command: string): Promise<ResolvedInterpreter> {
  const key = `${language}\0${command}`
  let pending = interpreterCache.get(key)
  if (!pending && language === 'nodejs' && command === process.execPath) {
    // The default: the harness's own node, whose answer is known without
    // starting a process (~60 ms on every run's package check).
    pending = Promise.resolve({ executable: process.execPath, version: `node${process.versions.node}` })
    interpreterCache.set(key, pending)
  }
  if (!pending) {
    const args =
      language === 'python'
        ? ['-c', 'import sys, platform; print(sys.executable); print(platform.python_version())']
        : ['-e', 'console.log(process.execPath); console.log(process.versions.node)']
    pending = new Promise<ResolvedInterpreter>((resolve, reject) => {
      execFile(command, args, { timeout: 15_000 }, (err, stdout, stderr) => {
        const [executable, version] = stdout.trim().split('\n').map((l) => l.trim())
        if (err || !executable || !version || !/^\d+\.\d+/.test(version)) {
          const why = err ? errorMessage(err) : `unexpected output '${`${stdout}${stderr}`.trim().slice(0, 200)}'`
          reject(
            new ProviderError(
              'local',
              'TOOL_MISSING',
              `cannot run the ${language} interpreter '${command}' (${why}). ` +
                `Install it or set runtimes.${language === 'python' ? 'python' : 'node'} in the configuration.`,
              { cause: err },
            ),
          )
          return
        }
        const answer = { executable, version: `${language === 'python' ? 'python' : 'node'}${version}` }
        // The executable answers for itself: deploy runs the package with it and asks again (a second
        // process, ~0.1 s under load, where the first command was a pyenv shim).
        if (executable !== command) interpreterCache.set(`${language}\0${executable}`, Promise.resolve(answer))
        resolve(answer)
      })
    })
    // A failure is not cached: the user may fix the PATH and retry in the same process.
    pending.catch(() => interpreterCache.delete(key))
    interpreterCache.set(key, pending)
  }
  return pending
}

/**
 * Starts asking the interpreters of `languages` for their executable and
 * version, in the background: a Python probe takes ~0.3 s, which otherwise
 * lands between the input modules and the packages of every run's setup.
 * Never rejects; a failure is not cached and is reported when the setup asks.
 */
export function prepareInterpreters(runtimes: { python: string; node: string }, languages: readonly Language[]): void {
  for (const language of new Set(languages)) {
    resolveInterpreter(language, language === 'python' ? runtimes.python : runtimes.node).catch(() => {})
  }
}
