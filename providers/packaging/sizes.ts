/**
 * Sizes of built packages on disk (main process and, for code updates, bench
 * workers). Kept apart from the builder so that measuring a directory loads
 * nothing else.
 */
import { lstat, readdir } from 'node:fs/promises'
import { join } from 'node:path'


/** Total size in bytes of the regular files below `dir` (symlinks are not followed). */
export async function directorySize(dir: string): Promise<number> {
  let total = 0
  const walk = async (d: string) => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const abs = join(d, entry.name)
      if (entry.isDirectory()) await walk(abs)
      else if (entry.isFile()) total += (await lstat(abs)).size
    }
  }
  await walk(dir)
  return total
}
