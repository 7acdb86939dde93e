/**
 * Types of ffmpeg.mjs (plain JavaScript so that init.sh can run it with node):
 * where benchmarks find ffmpeg on the host and what goes into code packages.
 */
export declare const FFMPEG_PACKAGES: { x64: string; arm64: string }
export declare const FFMPEG_ENV: 'SEBS_FFMPEG'
/** No ffmpeg found; the message names the fixes. */
export declare class FfmpegNotFoundError extends Error {
  readonly code: 'TOOL_MISSING'
}
/** `ffmpeg` on PATH, or undefined. */
export declare function ffmpegOnPath(pathVar?: string): string | undefined
/** The version of `name` that package.json pins. */
export declare function pinnedVersion(name: string): string
/** The static ffmpeg of the installed npm package for `arch`, or undefined. */
export declare function bundledFfmpeg(arch?: string): string | undefined
/** The ffmpeg to run on this machine: SEBS_FFMPEG, PATH, or the npm package's static build. */
export declare function findFfmpeg(env?: NodeJS.ProcessEnv): string
/** Puts an ffmpeg for `arch` at `<functionDir>/ffmpeg/ffmpeg`. */
export declare function installFfmpeg(functionDir: string, arch: string): { path: string; source: string }
