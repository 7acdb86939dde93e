/**
 * Shared by the Docker integration tests: whether an engine answers (with
 * the reason printed when not, so a skipped suite is never silent), and the
 * offline base images built once (cached by hash after the first run).
 */
import type { Language } from '../../core/types.ts'
import { buildBaseImage } from '../../providers/docker/base-image.ts'
import { dockerAvailable, type DockerAvailability } from '../../providers/docker/client.ts'

/** Checks for an engine; prints why the Docker tests are skipped when there is none. */
export async function dockerForTests(file: string): Promise<DockerAvailability> {
  const available = await dockerAvailable()
  if (!available.ok) {
    console.warn(`[sebs] SKIPPED Docker tests in ${file}: ${available.reason}`)
  }
  return available
}

/** A title that carries the skip reason, so the reporter shows it next to the skipped suite. */
export function dockerSuiteTitle(title: string, available: DockerAvailability): string {
  return available.ok ? title : `${title} [skipped: ${available.reason.split('. ')[0]}]`
}

const built = new Map<Language, Promise<string>>()

/** The base image tag of a language for the default interpreters, built if missing. */
export function ensureBaseImage(language: Language): Promise<string> {
  let pending = built.get(language)
  if (!pending) {
    pending = buildBaseImage({ language }).then((b) => b.tag)
    built.set(language, pending)
  }
  return pending
}
