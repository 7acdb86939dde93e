/**
 * Module specifiers held as strings (runs in every process). Our sources
 * import each other as './x.ts' and tsc rewrites those literal imports to
 * './x.js' in the built package (dist/); a specifier kept in a string (a
 * lazily imported provider, a generated suite's import) is not rewritten, so
 * it goes through this one helper.
 */
import { fileURLToPath } from 'node:url'

/**
 * `specifier` ('./x.ts') as the importing module's own build names it:
 * unchanged when `importerUrl` is a .ts source, './x.js' in the built package.
 */
export function builtSpecifier(specifier: string, importerUrl: string): string {
  return importerUrl.endsWith('.ts') ? specifier : specifier.replace(/\.ts$/, '.js')
}

/** Absolute path of the module `specifier` relative to `importerUrl` (an `import.meta.url`), in the same build. */
export function siblingModulePath(specifier: string, importerUrl: string): string {
  return fileURLToPath(new URL(builtSpecifier(specifier, importerUrl), importerUrl))
}
