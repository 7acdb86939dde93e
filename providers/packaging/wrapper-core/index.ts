/**
 * Where the wrapper core of each language lives (harness process, at build
 * time): every provider's packager copies it beside its handler, and lists it
 * among the hashed files so that a change to the core rebuilds every package.
 */
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Language } from '../../../core/types.ts'

const here = dirname(fileURLToPath(import.meta.url))

/** Absolute path of the wrapper core per language (`sebs-core.js`, `sebs_core.py`). */
export const WRAPPER_CORE: Record<Language, string> = {
  nodejs: join(here, 'nodejs', 'sebs-core.js'),
  python: join(here, 'python', 'sebs_core.py'),
}
