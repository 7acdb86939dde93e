/**
 * `local.docker` in the configuration, apart from the runtime code
 * (runtime.ts): the provider validates its options at start, and a process
 * runtime run need not load the Docker modules for that.
 */
import { z } from 'zod'

export const DEFAULT_DOCKER_CPUS = 1
/** Lambda's default ephemeral storage. */
export const DEFAULT_TMP_SIZE_MB = 512

/** `local.docker` in the configuration. */
export const dockerOptionsSchema = z
  .object({
    /** Images per language; default: the offline base image, else the official one (python:3.11-slim, node:20-slim). */
    images: z.object({ python: z.string().min(1).optional(), nodejs: z.string().min(1).optional() }).strict().optional(),
    /** CPU quota of each container (1 = one core); default 1. */
    cpus: z.number().positive().optional(),
    /** Size of each container's /tmp (tmpfs, counted against the memory limit), MB; default 512. */
    tmpSizeMb: z.number().int().positive().optional(),
    /** Pull missing images (default true; on offline machines a pull fails fast and the message says what to build). */
    pull: z.boolean().optional(),
  })
  .strict()

export type LocalDockerOptions = z.infer<typeof dockerOptionsSchema>
