/**
 * Helpers for benchmarks' input generators: a seeded PRNG and atomic,
 * idempotent data files. Inputs are generated deterministically into the
 * data directory and reused: a second run regenerates nothing.
 *
 * This folder holds no benchmark (no config.json), so discovery skips it.
 */
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, rename, rm } from 'node:fs/promises'
import { dirname } from 'node:path'

/** mulberry32: small, fast, deterministic 32-bit PRNG. Returns floats in [0, 1). */
export function createRng(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Deterministic pseudo-random bytes from a seed. */
export function seededBytes(seed: number, length: number): Buffer {
  const rng = createRng(seed)
  const out = Buffer.allocUnsafe(length)
  for (let i = 0; i < length; i++) out[i] = Math.floor(rng() * 256)
  return out
}

/**
 * Creates `path` by calling `produce(tmpPath)` unless it already exists. The
 * producer writes to a temporary sibling that is renamed into place, so an
 * interrupted generation never leaves a partial file behind that a later run
 * would take for complete. Returns true when the file was generated now.
 */
export async function ensureFile(path: string, produce: (tmpPath: string) => Promise<void>): Promise<boolean> {
  if (existsSync(path)) return false
  await mkdir(dirname(path), { recursive: true })
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`
  try {
    await produce(tmp)
    await rename(tmp, path)
  } catch (err) {
    await rm(tmp, { recursive: true, force: true })
    throw err
  }
  return true
}
