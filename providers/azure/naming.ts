/**
 * Names and tags of the Azure resources this suite creates.
 *
 * Every resource group carries `sebs-managed=true` and `sebs-run-id=<run>`
 * (and so does every resource in it), so that `sebs cleanup` finds what a
 * crashed run left behind. Layout:
 *
 * - one resource group per deployed function (`<prefix>-<run>-<benchmark>-<lang>`)
 *   holding its storage account (AzureWebJobsStorage + the code package),
 *   its Consumption plan, the function app and, when enabled, its
 *   Application Insights component: `delete()` removes the group;
 * - one long-lived data group (`<prefix>-data-<resourceId>`) holding the
 *   benchmarks storage account (SeBS's single bucket, reused across runs so
 *   that uploaded inputs stay cached) and the Cosmos DB account.
 */
import { createHash } from 'node:crypto'
import type { Language } from '../../core/types.ts'

export const TAG_MANAGED = 'sebs-managed'
export const TAG_RUN_ID = 'sebs-run-id'
export const TAG_BENCHMARK = 'sebs-benchmark'
/** 'function' or 'data': what a resource group holds. */
export const TAG_KIND = 'sebs-kind'

/** The Azure Functions function inside every app (the zip's folder, the URL's last segment). */
export const FUNCTION_NAME = 'function'
/** Container of code packages in a function's storage account. */
export const PACKAGE_CONTAINER = 'sebs-packages'
/** The Cosmos DB database of every benchmark table. */
export const COSMOS_DATABASE = 'sebs-benchmarks'

export function sebsTags(runId: string, extra: Record<string, string> = {}): Record<string, string> {
  return { [TAG_MANAGED]: 'true', [TAG_RUN_ID]: runId, ...extra }
}

export function shortHash(text: string, length = 8): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length)
}

/** Lowercase letters, digits and single dashes, trimmed. */
function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^-+|-+$/g, '')
}

function fit(name: string, max: number, hashOf: string): string {
  if (name.length <= max) return name
  const h = shortHash(hashOf)
  return `${name.slice(0, max - h.length - 1).replace(/-+$/, '')}-${h}`
}

/** Default suffix of the data resources: stable per subscription and region. */
export function resourceIdFor(subscriptionId: string, region: string): string {
  return shortHash(`${subscriptionId}:${region}`, 8)
}

/**
 * The function app: `<prefix>-<benchmark>-<lang>-<hash>` where the hash covers
 * run, subscription, benchmark and language. App names are global DNS labels
 * (2–60 of [a-z0-9-]), so the hash keeps two runs (or two users) apart.
 */
export function functionAppName(prefix: string, runId: string, subscriptionId: string, benchmark: string, language: Language): string {
  const h = shortHash(`${subscriptionId}:${runId}:${benchmark}:${language}`)
  const lang = language === 'python' ? 'py' : 'js'
  const head = slug(`${prefix}-${benchmark}`).slice(0, 60 - lang.length - h.length - 2).replace(/-+$/, '')
  return `${head}-${lang}-${h}`
}

/** Resource group of one deployed function (at most 90 of [A-Za-z0-9-_.()]). */
export function functionResourceGroup(prefix: string, runId: string, appName: string): string {
  return fit(`${prefix}-${slug(runId)}-${appName}`, 90, `${runId}:${appName}`)
}

/** Storage account of a function app: 3–24 lowercase letters and digits, globally unique. */
export function functionStorageAccount(appName: string): string {
  return `sebsfn${shortHash(appName, 16)}`
}

export function planName(appName: string): string {
  return `${appName}-plan`
}

export function appInsightsName(appName: string): string {
  return `${appName}-ai`
}

/** The Log Analytics workspace behind a function's (workspace-based) Application Insights component. */
export function logWorkspaceName(appName: string): string {
  return `${appName}-logs`
}

/**
 * The blob container a Flex Consumption app deploys from (3-63 chars,
 * lowercase letters, digits, single dashes): one per app, in the app's own
 * storage account or the configured blob endpoint.
 */
export function deploymentContainerName(appName: string): string {
  return `app-package-${shortHash(appName, 16)}`
}

/** The long-lived data resource group. */
export function dataResourceGroup(prefix: string, resourceId: string): string {
  return `${prefix}-data-${resourceId}`
}

/** The benchmarks storage account (3–24 lowercase alphanumerics). */
export function dataStorageAccount(resourceId: string): string {
  return `sebsdata${resourceId}`.slice(0, 24)
}

/** The single benchmarks container (SeBS's bucket, `sebs-benchmarks-<id>`). */
export function benchmarksContainer(resourceId: string): string {
  return `sebs-benchmarks-${resourceId}`
}

/** Cosmos DB account: 3–44 of [a-z0-9-], globally unique. */
export function cosmosAccountName(prefix: string, resourceId: string): string {
  return `${prefix}-cosmos-${resourceId}`.slice(0, 44)
}

/** Cosmos DB container of a benchmark's table (ids may not hold / \ # ?). */
export function cosmosContainerName(benchmark: string, table: string): string {
  return `${benchmark}-${table}`.replace(/[/\\#?\s]+/g, '-').slice(0, 255)
}

/** Blob name of a code package. */
export function packageBlobName(benchmark: string, language: Language, hash: string): string {
  return `${slug(benchmark)}-${language}-${hash}.zip`
}
