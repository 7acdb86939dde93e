/**
 * The `aws` section of the suite's config, validated with zod: the user's
 * partial `AwsUserOptions` and the resolved `AwsOptions` with defaults.
 *
 * Credentials are deliberately not part of it: they come from the standard
 * AWS chain (env vars, `AWS_PROFILE`, SSO, instance roles) and are never
 * written to config, caches, handles or results.
 */
import { z } from 'zod'
import { ConfigError } from '../../core/errors.ts'
import type { Architecture, Trigger } from '../../core/types.ts'

const endpointUrl = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//.test(u), 'must be an http(s) URL')

export const DEFAULT_PYTHON_RUNTIME = 'python3.11'
export const DEFAULT_NODEJS_RUNTIME = 'nodejs22.x'

export const awsOptionsSchema = z
  .object({
    region: z
      .string()
      .regex(/^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/, 'must look like us-east-1')
      .optional(),
    /** An existing execution role; without it `sebs-lambda-role` is created. */
    roleArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, 'must be an IAM role ARN (arn:aws:iam::123456789012:role/NAME)')
      .optional(),
    runtime: z
      .object({
        python: z.string().regex(/^python3\.\d{1,2}$/, "must be a Lambda runtime id like 'python3.12'").optional(),
        nodejs: z.string().regex(/^nodejs\d{2}\.x$/, "must be a Lambda runtime id like 'nodejs22.x'").optional(),
      })
      .strict()
      .optional(),
    arch: z.enum(['x64', 'arm64']).optional(),
    trigger: z.enum(['library', 'http']).optional(),
    endpoints: z
      .object({
        lambda: endpointUrl.optional(),
        s3: endpointUrl.optional(),
        dynamodb: endpointUrl.optional(),
        logs: endpointUrl.optional(),
        sts: endpointUrl.optional(),
        iam: endpointUrl.optional(),
      })
      .strict()
      .optional(),
    /** Bucket for packages over the 50 MB direct-upload limit; default: the benchmarks bucket. */
    deploymentBucket: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name')
      .optional(),
    /** Suffix of `sebs-benchmarks-<id>`; default: a hash of account and region. */
    resourceId: z
      .string()
      .regex(/^[a-z0-9-]{1,40}$/, 'lowercase letters, digits and dashes, at most 40')
      .optional(),
    /** Leave deployed functions in place at the end of a run. */
    keep: z.boolean().optional(),
    /** How long to wait for a function to become Active/updated, seconds. */
    deployTimeout: z.number().int().positive().optional(),
    /** How long `metrics()` waits for REPORT lines to reach CloudWatch Logs, seconds. */
    metricsTimeout: z.number().int().nonnegative().optional(),
    /** Packages above this size (bytes) go through S3; Lambda's limit is 50 MB. */
    directUploadLimit: z.number().int().positive().optional(),
    /**
     * Image in which dependencies are installed when Docker is available
     * (default `public.ecr.aws/sam/build-<runtime>`); false: always on the host.
     */
    buildImage: z.union([z.string().min(1, 'must be an image name or false'), z.literal(false)]).optional(),
  })
  .strict()

export type AwsUserOptions = z.input<typeof awsOptionsSchema>

export interface AwsOptions {
  /** Undefined: left to the SDK (AWS_REGION, or the profile's `region`). */
  region?: string
  roleArn?: string
  runtime: { python: string; nodejs: string }
  arch: Architecture
  trigger: Trigger
  endpoints: { lambda?: string; s3?: string; dynamodb?: string; logs?: string; sts?: string; iam?: string }
  deploymentBucket?: string
  resourceId?: string
  keep: boolean
  deployTimeoutMs: number
  metricsTimeoutMs: number
  directUploadLimit: number
  /** Configured build image; undefined: the SAM build image of the runtime (`defaultBuildImage`). */
  buildImage?: string | false
}

/** 50 MB: Lambda's limit for a zip sent inline with CreateFunction. */
export const DIRECT_UPLOAD_LIMIT = 50 * 1000 * 1000

/** Validates and fills in the `aws` config section; errors name the field. */
export function resolveAwsOptions(raw: unknown, env: NodeJS.ProcessEnv = process.env): AwsOptions {
  const parsed = awsOptionsSchema.safeParse(raw ?? {})
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const path = ['aws', ...issue.path.map(String)].join('.')
    throw new ConfigError(
      'CONFIG_INVALID',
      `Invalid config value at '${path}': ${issue.message}. Fix the 'aws' section of your sebs config.`,
      { cause: parsed.error },
    )
  }
  const o = parsed.data
  return {
    region: o.region ?? (env.AWS_REGION || undefined) ?? (env.AWS_DEFAULT_REGION || undefined),
    roleArn: o.roleArn,
    runtime: {
      python: o.runtime?.python ?? DEFAULT_PYTHON_RUNTIME,
      nodejs: o.runtime?.nodejs ?? DEFAULT_NODEJS_RUNTIME,
    },
    arch: o.arch ?? 'x64',
    trigger: o.trigger ?? 'library',
    endpoints: { ...o.endpoints },
    deploymentBucket: o.deploymentBucket,
    resourceId: o.resourceId,
    keep: o.keep ?? false,
    deployTimeoutMs: (o.deployTimeout ?? 300) * 1000,
    metricsTimeoutMs: (o.metricsTimeout ?? 120) * 1000,
    directUploadLimit: o.directUploadLimit ?? DIRECT_UPLOAD_LIMIT,
    buildImage: o.buildImage,
  }
}

/** The Lambda runtime id for a language, e.g. `python3.11`. */
export function runtimeFor(options: Pick<AwsOptions, 'runtime'>, language: 'python' | 'nodejs'): string {
  return language === 'python' ? options.runtime.python : options.runtime.nodejs
}

/** `python3.12` → `3.12`; `nodejs22.x` → `22`. */
export function runtimeVersion(runtime: string): string {
  const py = /^python(\d+\.\d+)$/.exec(runtime)
  if (py) return py[1]
  const node = /^nodejs(\d+)\.x$/.exec(runtime)
  if (node) return node[1]
  throw new ConfigError('CONFIG_INVALID', `Unknown Lambda runtime '${runtime}'. Use python3.N or nodejsNN.x in aws.runtime.`)
}

/** The AWS SAM build image of a Lambda runtime: Amazon Linux with that runtime, e.g. `public.ecr.aws/sam/build-python3.11`. */
export function defaultBuildImage(runtime: string): string {
  return `public.ecr.aws/sam/build-${runtime}`
}

/** The build image of a language under these options: the configured one, `false`, or the runtime's SAM image. */
export function buildImageFor(options: Pick<AwsOptions, 'runtime' | 'buildImage'>, language: 'python' | 'nodejs'): string | false {
  return options.buildImage ?? defaultBuildImage(runtimeFor(options, language))
}
