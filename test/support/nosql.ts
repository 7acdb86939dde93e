/**
 * Test-only helpers for the NoSQL wrappers: boto3 installed once from the
 * pip index into `<repo>/.sebs-cache/test-deps/boto3` (the function-side
 * Python module needs it; the harness does not).
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, rename, rm } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const TARGET = join(REPO_ROOT, '.sebs-cache', 'test-deps', 'boto3')

export function execFileText(
  file: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs: number; input?: string },
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = execFile(
      file,
      args,
      { env: options.env, cwd: options.cwd, timeout: options.timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${file} ${args.join(' ')} failed: ${err.message}\n--- stderr ---\n${stderr}\n--- stdout ---\n${stdout}`, { cause: err }))
        else resolvePromise({ stdout, stderr })
      },
    )
    if (options.input !== undefined) child.stdin?.end(options.input)
  })
}

/** A directory to put on PYTHONPATH that provides boto3; installed on first use. */
export async function ensureBoto3(): Promise<string> {
  if (existsSync(join(TARGET, 'boto3'))) return TARGET
  await mkdir(dirname(TARGET), { recursive: true })
  const tmp = `${TARGET}.tmp-${process.pid}-${Date.now()}`
  try {
    await execFileText('python3', ['-m', 'pip', 'install', '--no-input', '--disable-pip-version-check', '-q', '--target', tmp, 'boto3'], {
      timeoutMs: 600_000,
    })
    try {
      await rename(tmp, TARGET)
    } catch (err) {
      // Another test process won the race: keep its copy.
      if (!existsSync(join(TARGET, 'boto3'))) throw err
    }
  } finally {
    await rm(tmp, { recursive: true, force: true })
  }
  return TARGET
}
