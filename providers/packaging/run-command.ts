/**
 * Running the tools a build needs (main process): a command to completion
 * with its output's tail in the error, finding executables on PATH, and
 * whether a pid is alive (for build locks).
 */
import { spawn } from 'node:child_process'
import { accessSync, constants as fsConstants, existsSync, statSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { SebsError } from '../../core/errors.ts'
import { formatDuration } from '../../core/logger.ts'
import { lineSplitter } from '../../core/progress.ts'

/** Kept of each output stream; pip and npm print far less, this bounds memory on a runaway tool. */
const MAX_CAPTURE = 8 * 1024 * 1024

function quoteArg(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`
}

/** The shell-like display form of a command, for messages. */
export function formatCommand(cmd: string, args: string[]): string {
  return [cmd, ...args].map(quoteArg).join(' ')
}

/** pip's and npm's own error lines pinpoint a failure; the rest of their output buries them. */
const ERROR_LINE = /^\s*(ERROR:|error:|npm ERR!|npm error|E: |fatal:)/i

/**
 * The lines of a tool's output that say why it failed: its error lines (at
 * most 12) when it printed any, else its last 12 lines.
 */
export function meaningfulLines(text: string): string {
  const lines = text.replace(/\s+$/, '').split('\n').filter((l) => l.trim() !== '')
  const errors = lines.filter((l) => ERROR_LINE.test(l))
  return (errors.length > 0 ? errors : lines).slice(-12).join('\n')
}

/**
 * Runs a command to completion. Rejects with BUILD_FAILED (naming the command
 * and the lines of its output that say why, meaningfulLines) on a non-zero exit, a signal or the
 * timeout (the process is killed), and with TOOL_MISSING when the command does
 * not exist.
 */
export function runCommand(
  cmd: string,
  args: string[],
  opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number; onLine?: (line: string) => void },
): Promise<{ stdout: string; stderr: string }> {
  const display = formatCommand(cmd, args)
  return new Promise((resolve, reject) => {
    let stdout = ''
    let stderr = ''
    // Interleaved, for the error message: what a user would have seen in a terminal.
    let combined = ''
    const capture = (which: 'out' | 'err') => (chunk: Buffer) => {
      const text = chunk.toString('utf8')
      if (which === 'out') stdout = (stdout + text).slice(-MAX_CAPTURE)
      else stderr = (stderr + text).slice(-MAX_CAPTURE)
      combined = (combined + text).slice(-256 * 1024)
    }
    // Not detached: the child stays in our process group, so a Ctrl+C of the
    // harness reaches pip/npm too instead of leaving them running.
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout.on('data', capture('out'))
    child.stderr.on('data', capture('err'))
    if (opts.onLine) {
      // Progress for the caller (pip's and npm's own lines), besides the capture for errors.
      child.stdout.on('data', lineSplitter(opts.onLine))
      child.stderr.on('data', lineSplitter(opts.onLine))
    }
    let timedOut = false
    let settled = false
    const timers: NodeJS.Timeout[] = []
    const failure = (why: string) => {
      const tail = meaningfulLines(combined)
      return new SebsError('BUILD_FAILED', `Command ${why}: ${display} (in ${opts.cwd})` + (tail ? `\n${tail}` : '\n(no output)'))
    }
    const finish = (err: Error | undefined) => {
      if (settled) return
      settled = true
      for (const t of timers) clearTimeout(t)
      if (err) reject(err)
      else resolve({ stdout, stderr })
    }
    const timedOutError = () => failure(`timed out after ${formatDuration(opts.timeoutMs)} and was killed`)
    timers.push(
      setTimeout(() => {
        timedOut = true
        child.kill('SIGTERM')
        timers.push(
          setTimeout(() => {
            child.kill('SIGKILL')
            // 'close' waits for the output pipes, which a surviving grandchild
            // may hold open: give up on them shortly after the kill.
            timers.push(
              setTimeout(() => {
                child.stdout.destroy()
                child.stderr.destroy()
                finish(timedOutError())
              }, 2000),
            )
          }, 5000),
        )
      }, opts.timeoutMs),
    )
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') {
        const where = existsSync(opts.cwd) ? '' : ` (or its working directory ${opts.cwd} does not exist)`
        finish(new SebsError('TOOL_MISSING', `Cannot run '${cmd}': command not found${where}. Command: ${display}`, { cause: err }))
      } else {
        finish(new SebsError('BUILD_FAILED', `Cannot run ${display}: ${err.message}`, { cause: err }))
      }
    })
    child.on('close', (code, signal) => {
      if (timedOut) return finish(timedOutError())
      if (code === 0) return finish(undefined)
      finish(failure(signal ? `was killed by ${signal}` : `exited with code ${code}`))
    })
  })
}

/** True for an existing file this process may execute. */
export function isExecutable(path: string): boolean {
  try {
    accessSync(path, fsConstants.X_OK)
    return statSync(path).isFile()
  } catch {
    return false
  }
}

/** Where `command` resolves: itself when it is a path, else the first match on PATH. */
export function findExecutable(command: string): string | undefined {
  if (command.includes('/')) return isExecutable(command) ? command : undefined
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue
    const candidate = join(dir, command)
    if (isExecutable(candidate)) return candidate
  }
  return undefined
}

/** Throws TOOL_MISSING with the install hint when `command` is neither an executable path nor on PATH. */
export async function requireTool(command: string, installHint: string): Promise<void> {
  if (findExecutable(command)) return
  const where = command.includes('/') ? 'is not an executable file' : 'was not found on PATH'
  throw new SebsError('TOOL_MISSING', `'${command}' ${where}. ${installHint}`)
}

/** Whether a process with this pid exists (EPERM: it does, owned by another user). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
