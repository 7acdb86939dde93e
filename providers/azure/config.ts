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

/** Runtimes Azure Functions v4 offers on Linux for the two languages (SeBS supports a subset). */
export const PYTHON_VERSIONS = ['3.9', '3.10', '3.11', '3.12'] as const
/** 18 is gone: the bundled @azure/storage-blob and @azure/cosmos need Node >= 20. */
export const NODE_VERSIONS = ['20', '22'] as const

export const DEFAULT_REGION = 'westeurope'
export const DEFAULT_PYTHON_VERSION = '3.11'
export const DEFAULT_NODE_VERSION = '20'

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
      })
      .strict()
      .optional(),
    /** Leave deployed functions in place at the end of a run. */
    keep: z.boolean().optional(),
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
}

export interface AzureOptions {
  region: string
  /** Undefined until configured or set in AZURE_SUBSCRIPTION_ID: checkCredentials() says so. */
  subscriptionId?: string
  resourceGroupPrefix: string
  resourceId?: string
  runtime: { python: string; nodejs: string }
  appInsights: boolean
  endpoints: AzureEndpoints
  keep: boolean
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
  const envSubscription = env.AZURE_SUBSCRIPTION_ID?.trim()
  return {
    region: o.region ?? DEFAULT_REGION,
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
    },
    keep: o.keep ?? false,
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
