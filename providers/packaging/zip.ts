/**
 * Deterministic zips of built package directories (main process): what
 * cloud providers upload.
 */
import { randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { lstat, mkdir, readdir, readlink, rename, rm, stat } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import yazl from 'yazl'
import { SebsError, errorMessage } from '../../core/errors.ts'
import { PACKAGE_METADATA_FILE } from './package-builder.ts'

// A fixed timestamp keeps zips byte-identical across builds. DOS timestamps
// cannot go below 1980, and yazl encodes local time, so a local-time
// constructor yields the same fields in every time zone.
const ZIP_MTIME = new Date(1980, 0, 1, 0, 0, 0)

interface ZipEntry {
  rel: string
  abs: string
  kind: 'dir' | 'file' | 'symlink'
  executable: boolean
}

async function listZipEntries(root: string): Promise<ZipEntry[]> {
  const out: ZipEntry[] = []
  const walk = async (dir: string, rel: string) => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const childRel = rel ? `${rel}/${entry.name}` : entry.name
      const abs = join(dir, entry.name)
      // The cache's own metadata (with its build timestamp) is not part of a deployable package.
      if (!rel && entry.name === PACKAGE_METADATA_FILE) continue
      if (entry.isSymbolicLink()) out.push({ rel: childRel, abs, kind: 'symlink', executable: false })
      else if (entry.isDirectory()) {
        out.push({ rel: childRel, abs, kind: 'dir', executable: true })
        await walk(abs, childRel)
      } else if (entry.isFile()) {
        const mode = (await lstat(abs)).mode
        out.push({ rel: childRel, abs, kind: 'file', executable: (mode & 0o111) !== 0 })
      }
      // Sockets, FIFOs and devices have no place in a code package: skipped.
    }
  }
  await walk(root, '')
  // Byte order of the path, not locale order: the same on every machine.
  return out.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0))
}

/**
 * Zips `dir` (its contents at the archive root) into `zipPath`, deterministically:
 * entries sorted by path, a fixed timestamp, normalised modes (0644, or 0755
 * for executables and directories), symlinks stored as symlinks. Two zips of
 * the same directory are byte-identical. A root-level `.sebs-package.json`
 * is left out. The zip is written to a temporary file and renamed into place.
 */
export async function zipDirectory(dir: string, zipPath: string): Promise<{ sizeBytes: number }> {
  const entries = await listZipEntries(dir)
  await mkdir(dirname(zipPath), { recursive: true })
  const tmp = `${zipPath}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`
  const zip = new yazl.ZipFile()
  try {
    const written = pipeline(zip.outputStream, createWriteStream(tmp))
    for (const e of entries) {
      if (e.kind === 'dir') {
        zip.addEmptyDirectory(e.rel, { mtime: ZIP_MTIME, mode: 0o40755, forceDosTimestamp: true })
      } else if (e.kind === 'symlink') {
        zip.addBuffer(Buffer.from(await readlink(e.abs)), e.rel, {
          mtime: ZIP_MTIME,
          mode: 0o120777,
          compress: false,
          forceDosTimestamp: true,
        })
      } else {
        zip.addFile(e.abs, e.rel, {
          mtime: ZIP_MTIME,
          mode: e.executable ? 0o100755 : 0o100644,
          compress: true,
          forceDosTimestamp: true,
        })
      }
    }
    zip.end()
    await written
    await rename(tmp, zipPath)
  } catch (err) {
    await rm(tmp, { force: true })
    throw new SebsError('BUILD_FAILED', `Could not zip ${dir} into ${zipPath}: ${errorMessage(err)}`, { cause: err })
  }
  return { sizeBytes: (await stat(zipPath)).size }
}
