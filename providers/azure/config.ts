/**
 * The `azure` section of the suite's config, validated with zod: the user's
 * partial `AzureUserOptions` and the resolved `AzureOptions` with defaults.
 *
 * Credentials are deliberately not part of it: they come from the
 * environment (a service principal in `AZURE_SECRET_*` as SeBS names them,
 * or the standard `AZURE_CLIENT_*` variables), the Azure CLI login or a
 * managed identity, and are never written to config, caches, handles or
 * results. The subscription id is not a secret and may be configured here.
 */
import { z } from 'zod'
import { ConfigError } from '../../core/errors.ts'

/** http is accepted only for loopback addresses (emulators and the tests' mocks). */
function isLoopbackHttp(u: string): boolean {
  try {
    const url = new URL(u)
    return url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)
  } catch {
    return false
  }
}

const endpointUrl = z
  .string()
  .url()
  .refine((u) => u.startsWith('https://') || isLoopbackHttp(u), 'must be an https URL (http only for 127.0.0.1/localhost)')

/** Hosting plans: Flex Consumption (FC1, the default) and the legacy Linux Consumption plan (Y1). */
export const PLANS = ['flex', 'consumption'] as const
export type AzurePlan = (typeof PLANS)[number]

/**
 * Language versions each plan runs on Linux (Functions v4). Linux
 * Consumption gets no new versions after 2025-09-30 (its last are Python
 * 3.12 and Node 22) and retires on 2028-09-30; Flex Consumption starts at
 * Python 3.10. Node 18 is gone on both: the bundled @azure/storage-blob and
 * @azure/cosmos need Node >= 20 (Node 20 itself reached end of life on
 * 2026-04-30 and stays only for apps that still need it).
 */
export const RUNTIME_VERSIONS: Record<AzurePlan, { python: readonly string[]; nodejs: readonly string[] }> = {
  flex: { python: ['3.10', '3.11', '3.12', '3.13'], nodejs: ['20', '22'] },
  consumption: { python: ['3.9', '3.10', '3.11', '3.12'], nodejs: ['20', '22'] },
}
/** Every version some plan accepts (the schema's enum; resolveAzureOptions checks the plan's own list). */
export const PYTHON_VERSIONS = ['3.9', '3.10', '3.11', '3.12', '3.13'] as const
export const NODE_VERSIONS = ['20', '22'] as const

export const DEFAULT_REGION = 'westeurope'
export const DEFAULT_PLAN: AzurePlan = 'flex'
/** The newest version both plans run: Python 3.12 and Node 22. */
export const DEFAULT_PYTHON_VERSION = '3.12'
export const DEFAULT_NODE_VERSION = '22'

/** Flex Consumption's instance sizes, MB. */
export const FLEX_INSTANCE_MEMORY_MB = [512, 2048, 4096] as const

/**
 * The Flex instance size a SeBS memory setting runs on: the smallest size
 * that is at least the requested memory (so a function never gets less than
 * it asked for), 4096 MB at most. Recorded as `providerMemoryMb`.
 */
export function flexInstanceMemory(memoryMb: number): number {
  return FLEX_INSTANCE_MEMORY_MB.find((m) => m >= memoryMb) ?? FLEX_INSTANCE_MEMORY_MB[FLEX_INSTANCE_MEMORY_MB.length - 1]
}

/**
 * HTTP-triggered functions answer within 230 s or not at all: the front end
 * (the Azure load balancer's idle timeout) cuts the response, whatever
 * `functionTimeout` says, while the function runs (and bills) on.
 */
export const HTTP_RESPONSE_LIMIT_S = 230

export const azureOptionsSchema = z
  .object({
    /** Azure region of every resource (SeBS's default is westeurope). */
    region: z
      .string()
      .regex(/^[a-z][a-z0-9]{2,30}$/, "must be an Azure region name like 'westeurope' or 'eastus2'")
      .optional(),
    /** Subscription; default AZURE_SUBSCRIPTION_ID. */
    subscriptionId: z
      .string()
      .regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, 'must be a subscription id (a GUID)')
      .optional(),
    /** Start of every resource group name this suite creates (default 'sebs'). */
    resourceGroupPrefix: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,19}$/, 'lowercase letters, digits and dashes, at most 20, starting with a letter')
      .optional(),
    /** Suffix of the long-lived data resources (benchmarks container, Cosmos DB account); default: a hash of subscription and region. */
    resourceId: z
      .string()
      .regex(/^[a-z0-9]{1,12}$/, 'lowercase letters and digits, at most 12')
      .optional(),
    /** Hosting plan of new function apps: 'flex' (Flex Consumption, default) or 'consumption' (legacy Linux Consumption, retires 2028-09-30). */
    plan: z.enum(PLANS).optional(),
    runtime: z
      .object({
        python: z.enum(PYTHON_VERSIONS).optional(),
        nodejs: z.enum(NODE_VERSIONS).optional(),
      })
      .strict()
      .optional(),
    /** Create an Application Insights component per function and read request durations from it. */
    appInsights: z.boolean().optional(),
    endpoints: z
      .object({
        /** Azure Resource Manager base URL (default https://management.azure.com). */
        management: endpointUrl.optional(),
        /**
         * A storage connection string used for all blob traffic (benchmark data
         * and code packages) instead of the storage accounts' own keys: Azurite,
         * or an existing account.
         */
        blobConnectionString: z.string().min(1).optional(),
        /** Function base URL template with `{app}` (default: https://<the site's defaultHostName>). */
        functions: z
          .string()
          .refine((u) => u.includes('{app}'), "must contain '{app}'")
          .refine((u) => u.startsWith('https://') || isLoopbackHttp(u.replace('{app}', 'app')), 'must be an https URL (http only for loopback)')
          .optional(),
        /** Application Insights query API base URL (default https://api.applicationinsights.io). */
        appInsights: endpointUrl.optional(),
        /** Deployment (SCM/Kudu) base URL template with `{app}`, where Flex apps get their package (default https://{app}.scm.azurewebsites.net). */
        scm: z
          .string()
          .refine((u) => u.includes('{app}'), "must contain '{app}'")
          .refine((u) => u.startsWith('https://') || isLoopbackHttp(u.replace('{app}', 'app')), 'must be an https URL (http only for loopback)')
          .optional(),
      })
      .strict()
      .optional(),
    /** Leave deployed functions in place at the end of a run. */
    keep: z.boolean().optional(),
    /**
     * Days the read-only SAS URL of a Consumption app's package stays valid
     * (instances fetch the package at every cold start). Default: 2 without
     * `keep`, 365 with it; `forceColdStart`/`update` renew it when it has
     * less than a day left.
     */
    packageSasDays: z.number().int().min(1).max(365).optional(),
    /** How long to wait for resources and for a function to answer after a deploy, seconds. */
    deployTimeout: z.number().int().positive().optional(),
    /** How long forceColdStart() waits for the app to serve with the new setting, seconds. */
    coldStartTimeout: z.number().int().positive().optional(),
    /** How long metrics() waits for Application Insights to ingest request rows, seconds. */
    metricsTimeout: z.number().int().nonnegative().optional(),
    /** How long checkCredentials() may take to get a token, seconds. */
    credentialTimeout: z.number().positive().optional(),
    /**
     * Image in which dependencies are installed when Docker is available
     * (default the Azure Functions image of the runtime, `defaultBuildImage`); false: always on the host.
     */
    buildImage: z.union([z.string().min(1, 'must be an image name or false'), z.literal(false)]).optional(),
  })
  .strict()

export type AzureUserOptions = z.input<typeof azureOptionsSchema>

export interface AzureEndpoints {
  management: string
  blobConnectionString?: string
  functions?: string
  appInsights: string
  /** Template with `{app}`; undefined: https://{app}.scm.azurewebsites.net. */
  scm?: string
}

export interface AzureOptions {
  region: string
  plan: AzurePlan
  /** Undefined until configured or set in AZURE_SUBSCRIPTION_ID: checkCredentials() says so. */
  subscriptionId?: string
  resourceGroupPrefix: string
  resourceId?: string
  runtime: { python: string; nodejs: string }
  appInsights: boolean
  endpoints: AzureEndpoints
  keep: boolean
  packageSasDays: number
  deployTimeoutMs: number
  coldStartTimeoutMs: number
  metricsTimeoutMs: number
  credentialTimeoutMs: number
  /** Configured build image; undefined: the Functions image of the runtime (`defaultBuildImage`). */
  buildImage?: string | false
}

export const DEFAULT_MANAGEMENT_ENDPOINT = 'https://management.azure.com'
export const DEFAULT_APP_INSIGHTS_ENDPOINT = 'https://api.applicationinsights.io'

/** Validates and fills in the `azure` config section; errors name the field. */
export function resolveAzureOptions(raw: unknown, env: NodeJS.ProcessEnv = process.env): AzureOptions {
  const parsed = azureOptionsSchema.safeParse(raw ?? {})
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const path = ['azure', ...issue.path.map(String)].join('.')
    throw new ConfigError(
      'CONFIG_INVALID',
      `Invalid config value at '${path}': ${issue.message}. Fix the 'azure' section of your sebs config.`,
      { cause: parsed.error },
    )
  }
  const o = parsed.data
  const plan = o.plan ?? DEFAULT_PLAN
  for (const language of ['python', 'nodejs'] as const) {
    const version = o.runtime?.[language]
    if (version !== undefined && !RUNTIME_VERSIONS[plan][language].includes(version)) {
      throw new ConfigError(
        'CONFIG_INVALID',
        `Invalid config value at 'azure.runtime.${language}': the ${plan === 'flex' ? 'Flex Consumption' : 'Linux Consumption'} plan runs ${language} ${RUNTIME_VERSIONS[plan][language].join(', ')}, not ${version}. ` +
          `Choose one of those, or set azure.plan to '${plan === 'flex' ? 'consumption' : 'flex'}'.`,
      )
    }
  }
  const envSubscription = env.AZURE_SUBSCRIPTION_ID?.trim()
  return {
    region: o.region ?? DEFAULT_REGION,
    plan,
    subscriptionId: o.subscriptionId ?? (envSubscription || undefined),
    resourceGroupPrefix: o.resourceGroupPrefix ?? 'sebs',
    resourceId: o.resourceId,
    runtime: {
      python: o.runtime?.python ?? DEFAULT_PYTHON_VERSION,
      nodejs: o.runtime?.nodejs ?? DEFAULT_NODE_VERSION,
    },
    appInsights: o.appInsights ?? false,
    endpoints: {
      management: (o.endpoints?.management ?? DEFAULT_MANAGEMENT_ENDPOINT).replace(/\/+$/, ''),
      blobConnectionString: o.endpoints?.blobConnectionString,
      functions: o.endpoints?.functions?.replace(/\/+$/, ''),
      appInsights: (o.endpoints?.appInsights ?? DEFAULT_APP_INSIGHTS_ENDPOINT).replace(/\/+$/, ''),
      scm: o.endpoints?.scm?.replace(/\/+$/, ''),
    },
    keep: o.keep ?? false,
    packageSasDays: o.packageSasDays ?? (o.keep ? 365 : 2),
    deployTimeoutMs: (o.deployTimeout ?? 600) * 1000,
    coldStartTimeoutMs: (o.coldStartTimeout ?? 300) * 1000,
    metricsTimeoutMs: (o.metricsTimeout ?? 300) * 1000,
    credentialTimeoutMs: Math.round((o.credentialTimeout ?? 10) * 1000),
    buildImage: o.buildImage,
  }
}

/** The runtime version of a language, e.g. '3.11' or '20'. */
export function runtimeVersionFor(options: Pick<AzureOptions, 'runtime'>, language: 'python' | 'nodejs'): string {
  return language === 'python' ? options.runtime.python : options.runtime.nodejs
}

/** `linuxFxVersion` of a Linux function app: `Python|3.11`, `Node|20`. */
export function linuxFxVersion(language: 'python' | 'nodejs', version: string): string {
  return language === 'python' ? `Python|${version}` : `Node|${version}`
}

/** `FUNCTIONS_WORKER_RUNTIME` of a language. */
export function workerRuntime(language: 'python' | 'nodejs'): 'python' | 'node' {
  return language === 'python' ? 'python' : 'node'
}

/** The Azure Functions v4 image of a runtime (Debian with the language worker), e.g. `mcr.microsoft.com/azure-functions/python:4-python3.11`. */
export function defaultBuildImage(language: 'python' | 'nodejs', version: string): string {
  return language === 'python'
    ? `mcr.microsoft.com/azure-functions/python:4-python${version}`
    : `mcr.microsoft.com/azure-functions/node:4-node${version}`
}

/** The build image of a language under these options: the configured one, `false`, or the runtime's Functions image. */
export function buildImageFor(options: Pick<AzureOptions, 'runtime' | 'buildImage'>, language: 'python' | 'nodejs'): string | false {
  return options.buildImage ?? defaultBuildImage(language, runtimeVersionFor(options, language))
}
