/**
 * Padded code packages for the code-package-size sweep (SeBS's
 * invocation-overhead `type: code`): the function's own package plus one
 * file, `sebs-padding.bin`, of incompressible random bytes.
 *
 * Padded packages are never written into the content-addressed package
 * cache: a padded directory is a new tree of hard links (the cached files
 * are shared, not changed) and a padded zip is a new file in a temp
 * directory of its own. Temp directories carry the creating process's pid,
 * so `sweepPaddingTemp` can remove those of processes that died.
 */
import { randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { copyFile, link, mkdir, mkdtemp, readdir, readlink, rm, stat, symlink } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import yauzl from 'yauzl'
import yazl from 'yazl'
import { SebsError, errorMessage } from '../../core/errors.ts'
import { CODE_PADDING_FILE } from '../types.ts'
import { PACKAGE_METADATA_FILE } from './package-builder.ts'
import { pidAlive } from './run-command.ts'
import { directorySize } from './sizes.ts'

/** The largest padding accepted: Lambda's 250 MB unzipped limit is the biggest any platform allows. */
export const MAX_PADDING_BYTES = 512 * 1024 * 1024

const CHUNK = 1024 * 1024
const ZIP_MTIME = new Date(1980, 0, 1, 0, 0, 0)

/** Throws unless `bytes` is a whole number of bytes in range. */
export function checkPaddingBytes(provider: string, bytes: number): void {
  if (!Number.isInteger(bytes) || bytes < 0 || bytes > MAX_PADDING_BYTES) {
    throw new SebsError('CONFIG_INVALID', `[${provider}] code padding must be a whole number of bytes from 0 to ${MAX_PADDING_BYTES}, got ${bytes}.`)
  }
}

/** `bytes` of cryptographically random (so incompressible) data, in 1 MiB chunks. */
export function randomStream(bytes: number): Readable {
  let left = bytes
  return new Readable({
    read() {
      if (left <= 0) {
        this.push(null)
        return
      }
      const n = Math.min(CHUNK, left)
      left -= n
      this.push(randomBytes(n))
    },
  })
}

/** Writes a file of `bytes` random bytes. */
export async function writePaddingFile(path: string, bytes: number): Promise<void> {
  await pipeline(randomStream(bytes), createWriteStream(path))
}

/**
 * Recreates the tree `src` at `dest` from hard links (symlinks as symlinks),
 * falling back to copies across file systems. Hard links are safe here: an
 * instance runs from the cached directory itself when unpadded, so the copy
 * exposes nothing the original did not; new files written into the copy
 * (Python's atomic `.pyc` writes, the padding) do not reach the cache.
 */
async function linkTree(src: string, dest: string, root = true): Promise<void> {
  await mkdir(dest, { recursive: true })
  for (const entry of await readdir(src, { withFileTypes: true })) {
    // The cache's metadata marks a cache entry; a padded copy is not one.
    if (root && entry.name === PACKAGE_METADATA_FILE) continue
    const from = join(src, entry.name)
    const to = join(dest, entry.name)
    if (entry.isSymbolicLink()) await symlink(await readlink(from), to)
    else if (entry.isDirectory()) await linkTree(from, to, false)
    else if (entry.isFile()) {
      try {
        await link(from, to)
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code
        if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'EMLINK') throw err
        await copyFile(from, to)
      }
    }
  }
}

/**
 * A padded copy of a package directory at `dest` (which must not exist):
 * the package's files plus `CODE_PADDING_FILE` of `bytes` random bytes.
 * Returns the copy's size (files, padding included). A failed copy is removed.
 */
export async function createPaddedDirectory(src: string, dest: string, bytes: number): Promise<{ sizeBytes: number }> {
  try {
    await linkTree(src, dest)
    await writePaddingFile(join(dest, CODE_PADDING_FILE), bytes)
    return { sizeBytes: await directorySize(dest) }
  } catch (err) {
    await rm(dest, { recursive: true, force: true }).catch(() => {})
    throw new SebsError('BUILD_FAILED', `Could not create a package padded with ${bytes} bytes from ${src} at ${dest}: ${errorMessage(err)}`, { cause: err })
  }
}

function openZip(path: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) =>
    yauzl.open(path, { lazyEntries: true, autoClose: false }, (err, zip) => (err || !zip ? reject(err ?? new Error('no zip')) : resolve(zip))),
  )
}

function openEntry(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Readable> {
  return new Promise((resolve, reject) => zip.openReadStream(entry, (err, stream) => (err || !stream ? reject(err ?? new Error('no stream')) : resolve(stream))))
}

/**
 * Writes `dest`: every entry of the zip `src` (same names, modes and
 * compression) plus `CODE_PADDING_FILE` of `bytes` random bytes, stored
 * uncompressed (it would not compress anyway). Returns the new zip's size.
 */
export async function createPaddedZip(src: string, dest: string, bytes: number): Promise<{ sizeBytes: number }> {
  let source: yauzl.ZipFile | undefined
  try {
    source = await openZip(src)
    const out = new yazl.ZipFile()
    const written = pipeline(out.outputStream, createWriteStream(dest))
    // Awaited below; a write error before then must not go unhandled.
    written.catch(() => {})
    const zip = source
    await new Promise<void>((resolve, reject) => {
      zip.on('error', reject)
      zip.on('end', () => resolve())
      zip.on('entry', (entry: yauzl.Entry) => {
        if (entry.fileName === CODE_PADDING_FILE) {
          // A zip that is itself padded: the new padding replaces the old.
          zip.readEntry()
          return
        }
        const mode = entry.externalFileAttributes >>> 16
        if (entry.fileName.endsWith('/')) {
          out.addEmptyDirectory(entry.fileName, { mtime: ZIP_MTIME, ...(mode ? { mode } : {}), forceDosTimestamp: true })
          zip.readEntry()
          return
        }
        openEntry(zip, entry).then(
          (stream) => {
            stream.once('error', reject)
            // One entry at a time: the next is opened once yazl has read this
            // one, so a package of many files never holds many inflaters.
            stream.once('end', () => zip.readEntry())
            out.addReadStream(stream, entry.fileName, {
              mtime: ZIP_MTIME,
              ...(mode ? { mode } : {}),
              compress: entry.compressionMethod !== 0,
              size: entry.uncompressedSize,
              forceDosTimestamp: true,
            })
          },
          reject,
        )
      })
      zip.readEntry()
    })
    out.addReadStream(randomStream(bytes), CODE_PADDING_FILE, { mtime: ZIP_MTIME, mode: 0o100644, compress: false, size: bytes, forceDosTimestamp: true })
    out.end()
    await written
    return { sizeBytes: (await stat(dest)).size }
  } catch (err) {
    await rm(dest, { force: true }).catch(() => {})
    throw new SebsError('BUILD_FAILED', `Could not create a zip padded with ${bytes} bytes from ${src}: ${errorMessage(err)}`, { cause: err })
  } finally {
    source?.close()
  }
}

/** Removes padding temp dirs under `root` left by processes that no longer run. */
export async function sweepPaddingTemp(root: string): Promise<string[]> {
  let names: string[]
  try {
    names = await readdir(root)
  } catch {
    return []
  }
  const removed: string[] = []
  for (const name of names) {
    const m = /^padding-(\d+)-/.exec(name)
    if (!m || pidAlive(Number(m[1]))) continue
    await rm(join(root, name), { recursive: true, force: true }).catch(() => {})
    removed.push(join(root, name))
  }
  return removed
}

/**
 * Runs `use` with a padded copy of the zip `src` in a fresh temp dir under
 * `tmpRoot` (named with this process's pid), removed afterwards whatever
 * happens; temp dirs of dead processes are swept first.
 */
export async function withPaddedZip<T>(src: string, bytes: number, tmpRoot: string, use: (zip: { path: string; sizeBytes: number }) => Promise<T>): Promise<T> {
  await sweepPaddingTemp(tmpRoot)
  await mkdir(tmpRoot, { recursive: true })
  const dir = await mkdtemp(join(tmpRoot, `padding-${process.pid}-`))
  try {
    const path = join(dir, `padded-${bytes}.zip`)
    const { sizeBytes } = await createPaddedZip(src, path, bytes)
    return await use({ path, sizeBytes })
  } finally {
    await rm(dir, { recursive: true, force: true }).catch(() => {})
  }
}

/** Reads the names and sizes of a zip's entries (tests and diagnostics). */
export async function listZip(path: string): Promise<Map<string, number>> {
  const zip = await openZip(path)
  try {
    const entries = new Map<string, number>()
    await new Promise<void>((resolve, reject) => {
      zip.on('error', reject)
      zip.on('end', () => resolve())
      zip.on('entry', (entry: yauzl.Entry) => {
        entries.set(entry.fileName, entry.uncompressedSize)
        zip.readEntry()
      })
      zip.readEntry()
    })
    return entries
  } finally {
    zip.close()
  }
}
