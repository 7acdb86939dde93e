/**
 * Which dependency file of a benchmark's language folder a package installs
 * from (main process, package builds), chosen as SeBS chooses it:
 *
 * - python: `requirements.txt.arm.<major.minor>` on arm64, else
 *   `requirements.txt.<major.minor>`, else `requirements.txt`. The chosen
 *   file replaces the others (SeBS's dockerfiles/python_installer.sh runs
 *   `pip install -r` on exactly one of them), so a version's pins never meet
 *   the general file's.
 * - nodejs: `package.json.<major>`, else `package.json` (SeBS's
 *   `Benchmark.copy_code` copies the versioned file over package.json).
 *
 * The runtime version comes in the provider's form (`3.11.7`, `python3.11`,
 * `nodejs20.x`, `20.11.1`); only its numbers count.
 */
import type { Architecture, Language } from '../../core/types.ts'

/** `python3.11` → {major 3, majorMinor 3.11}; `nodejs20.x` → {major 20}. */
export function versionTag(runtimeVersion: string): { major?: string; majorMinor?: string } {
  const m = /(\d+)(?:\.(\d+))?/.exec(runtimeVersion)
  if (!m) return {}
  return { major: m[1], majorMinor: m[2] !== undefined ? `${m[1]}.${m[2]}` : undefined }
}

/** The candidates for a target, most specific first. */
export function dependencyFileCandidates(language: Language, runtimeVersion: string, arch: Architecture): string[] {
  const { major, majorMinor } = versionTag(runtimeVersion)
  if (language === 'python') {
    return [
      ...(majorMinor && arch === 'arm64' ? [`requirements.txt.arm.${majorMinor}`] : []),
      ...(majorMinor ? [`requirements.txt.${majorMinor}`] : []),
      'requirements.txt',
    ]
  }
  return [...(major ? [`package.json.${major}`] : []), 'package.json']
}

/**
 * The dependency file (a name in the function folder) the package for this
 * target installs from, given the names the folder holds; undefined when it
 * has none.
 */
export function chooseDependencyFile(
  names: Iterable<string>,
  target: { language: Language; runtimeVersion: string; arch: Architecture },
): string | undefined {
  const present = new Set(names)
  return dependencyFileCandidates(target.language, target.runtimeVersion, target.arch).find((n) => present.has(n))
}
