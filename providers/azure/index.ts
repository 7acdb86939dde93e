/**
 * The Azure provider: Azure Functions (Flex Consumption by default, or the
 * legacy Linux Consumption plan; Functions v4, python or node) deployed from
 * zips through the ARM SDKs,
 * Blob Storage for benchmark data (SeBS's single bucket = one container),
 * Cosmos DB for NoSQL, Application Insights for provider-side request times.
 *
 * SeBS drives the az and func CLIs inside a Docker image; this provider talks
 * to Resource Manager and the data planes directly. Every resource group it
 * creates is tagged `sebs-managed=true` / `sebs-run-id=<run>` (naming.ts).
 *
 * Credentials come only from the environment or the Azure CLI login
 * (credentials.ts) and are never stored: handles, caches and records hold
 * names, URLs and ids.
 */
import { join } from 'node:path'
import type { TokenCredential } from '@azure/identity'
import { ProviderError, errorMessage } from '../../core/errors.ts'
import type {
  BuildContext,
  CodePackage,
  DeployOptions,
  DeployedFunction,
  FunctionHandle,
  FunctionSpec,
  NoSqlStorage,
  ObjectStorage,
  Provider,
  ProviderContext,
  SweptResource,
} from '../types.ts'
import { defineProvider } from '../types.ts'
import { noSqlFunctionEnv } from '../storage/function-env.ts'
import { blobFunctionEnv, createBlobStorage, describeConnectionString } from './blob-storage.ts'
import { type AzureClients, createAzureClients, isNotFound, managementScope } from './clients.ts'
import { type AzureOptions, type AzureUserOptions, buildImageFor, resolveAzureOptions } from './config.ts'
import { createCosmosNoSql } from './cosmos-nosql.ts'
import { type CredentialChoice, MISSING_CREDENTIALS_HELP, chooseCredential, verifyCredential, withDeadline } from './credentials.ts'
import { type AzureFunctionData, type AzureTimings, DEFAULT_TIMINGS, DeployedAzureFunction, deployFunctionApp } from './function-app.ts'
import {
  COSMOS_DATABASE,
  TAG_KIND,
  benchmarksContainer,
  cosmosAccountName,
  dataResourceGroup,
  dataStorageAccount,
  resourceIdFor,
  sebsTags,
} from './naming.ts'
import { buildAzurePackage, packagedModules } from './packaging.ts'
import { BASE_NAMESPACES, MONITORING_NAMESPACES, NOSQL_NAMESPACES, ensureResourceProviders } from './registration.ts'
import { sweepAzure } from './sweep.ts'

export { resolveAzureOptions, azureOptionsSchema, type AzureOptions, type AzureUserOptions } from './config.ts'
export { buildAzurePackage, pipInstallArgs, npmInstallArgs } from './packaging.ts'
export { createBlobStorage } from './blob-storage.ts'
export type { AzureFunctionData } from './function-app.ts'

/** Test seams. Production code never passes these. */
export interface AzureProviderInternals {
  /** Use this credential instead of the environment's (still verified by checkCredentials). */
  credential?: TokenCredential
  timings?: Partial<AzureTimings>
  /** Environment to read credentials and the subscription from (default process.env). */
  env?: NodeJS.ProcessEnv
}

const SUBSCRIPTION_API = '2022-12-01'
const COSMOS_API = '2024-11-15'

/** Builds the Azure package of one benchmark without credentials (`npx sebs package --provider=azure`). */
export async function packageForAzure(spec: FunctionSpec, ctx: BuildContext, options: AzureUserOptions | Record<string, unknown> = {}): Promise<CodePackage> {
  const resolved = resolveAzureOptions(options)
  return buildAzurePackage(spec, ctx, { runtime: resolved.runtime, buildImage: buildImageFor(resolved, spec.language), buildImageIsDefault: resolved.buildImage === undefined })
}

export function createAzureProvider(ctx: ProviderContext, internals: AzureProviderInternals = {}): Provider {
  const env = internals.env ?? process.env
  const opts: AzureOptions = resolveAzureOptions(ctx.options, env)
  const logger = ctx.logger.child('provider:azure')
  const timings: AzureTimings = { ...DEFAULT_TIMINGS, ...internals.timings }
  let checked: Promise<{ clients: AzureClients; subscriptionId: string }> | undefined
  let credential: Promise<CredentialChoice> | undefined
  let storage: Promise<ObjectStorage> | undefined
  let nosql: Promise<NoSqlStorage & { database: string }> | undefined
  let nosqlDatabase: string | undefined

  const requireSubscription = (): string => {
    if (!opts.subscriptionId) {
      throw new ProviderError('azure', 'CREDENTIALS_MISSING', `No Azure subscription configured. ${MISSING_CREDENTIALS_HELP}`)
    }
    return opts.subscriptionId
  }

  const getCredential = (): Promise<CredentialChoice> => {
    credential ??= (internals.credential
      ? Promise.resolve({ credential: internals.credential, source: 'configured credential' })
      : chooseCredential(env)
    ).catch((err) => {
      credential = undefined
      throw err
    })
    return credential
  }

  /** Credentials and subscription, verified once (a later call retries after a failure). */
  const verified = (): Promise<{ clients: AzureClients; subscriptionId: string }> => {
    checked ??= (async () => {
      const subscriptionId = requireSubscription()
      const choice = await getCredential()
      await verifyCredential(choice, managementScope(opts.endpoints.management), opts.credentialTimeoutMs)
      const clients = createAzureClients({ subscriptionId, credential: choice.credential, management: opts.endpoints.management })
      let res: { status: number; body: { state?: string } | undefined }
      try {
        res = await withDeadline(
          clients.arm<{ state?: string }>('GET', `/subscriptions/${subscriptionId}`, { query: { 'api-version': SUBSCRIPTION_API } }),
          opts.credentialTimeoutMs,
          () => new Error(`Resource Manager did not answer within ${opts.credentialTimeoutMs / 1000} s`),
        )
      } catch (err) {
        throw new ProviderError('azure', 'CREDENTIALS_INVALID', `Checking subscription ${subscriptionId} failed: ${errorMessage(err)}`, { cause: err })
      }
      if (res.status === 401 || res.status === 403 || res.status === 404) {
        throw new ProviderError(
          'azure',
          'CREDENTIALS_INVALID',
          `Subscription ${subscriptionId} is not accessible with the ${choice.source} (HTTP ${res.status}). Check AZURE_SUBSCRIPTION_ID / azure.subscriptionId and the principal's role assignment (Contributor on the subscription).`,
        )
      }
      if (res.status !== 200) {
        throw new ProviderError('azure', 'CREDENTIALS_INVALID', `Checking subscription ${subscriptionId} answered HTTP ${res.status}.`)
      }
      if (res.body?.state && res.body.state !== 'Enabled') {
        throw new ProviderError('azure', 'CREDENTIALS_INVALID', `Subscription ${subscriptionId} is ${res.body.state}, not Enabled.`)
      }
      logger.debug(`credentials: ${choice.source}, subscription ${subscriptionId}`)
      return { clients, subscriptionId }
    })().catch((err) => {
      checked = undefined
      throw err
    })
    return checked
  }

  /** Resource providers, registered once per provider object (a fresh subscription has none of them). */
  const registered = new Map<string, Promise<void>>()
  const ensureRegistered = (c: AzureClients, namespaces: readonly string[]): Promise<void> => {
    const key = namespaces.join(',')
    let p = registered.get(key)
    if (!p) {
      p = ensureResourceProviders(c, namespaces, { timeoutMs: opts.deployTimeoutMs, pollMs: timings.registrationPollMs, logger }).catch((err) => {
        registered.delete(key)
        throw err
      })
      registered.set(key, p)
    }
    return p
  }

  /** Credentials checked and the namespaces deploys and the data storage account need registered. */
  const ready = async (): Promise<{ clients: AzureClients; subscriptionId: string }> => {
    const v = await verified()
    await ensureRegistered(v.clients, opts.appInsights ? [...BASE_NAMESPACES, ...MONITORING_NAMESPACES] : BASE_NAMESPACES)
    return v
  }

  const resourceId = (subscriptionId: string) => opts.resourceId ?? resourceIdFor(subscriptionId, opts.region)

  /** The long-lived data group, created (with this run's tags) only when it does not exist yet. */
  const ensureDataGroup = async (c: AzureClients, subscriptionId: string): Promise<string> => {
    const name = dataResourceGroup(opts.resourceGroupPrefix, resourceId(subscriptionId))
    try {
      await c.resources.resourceGroups.get(name)
      return name
    } catch (err) {
      if (!isNotFound(err)) throw new ProviderError('azure', 'STORAGE_FAILED', `Reading resource group ${name} failed: ${errorMessage(err)}`, { cause: err })
    }
    await c.resources.resourceGroups.createOrUpdate(name, { location: opts.region, tags: sebsTags(ctx.runId, { [TAG_KIND]: 'data' }) })
    return name
  }

  const workerClients = (data: AzureFunctionData): (() => Promise<AzureClients>) => {
    let clients: Promise<AzureClients> | undefined
    return () => {
      clients ??= getCredential().then((choice) =>
        createAzureClients({ subscriptionId: data.subscriptionId, credential: choice.credential, management: data.management }),
      )
      return clients
    }
  }

  /** Where packages go (the configured blob endpoint, else each app's own account) and padded zips are written. */
  const codeUpload = {
    ...(opts.endpoints.blobConnectionString ? { blobConnectionString: opts.endpoints.blobConnectionString } : {}),
    paddingTmpDir: join(ctx.cacheDir, 'tmp', 'azure'),
  }

  const provider: Provider = {
    name: 'azure',

    async checkCredentials() {
      await verified()
    },

    package(spec: FunctionSpec, bctx: BuildContext) {
      return buildAzurePackage(spec, bctx, { runtime: opts.runtime, buildImage: buildImageFor(opts, spec.language), buildImageIsDefault: opts.buildImage === undefined })
    },

    async deploy(pkg: CodePackage, options: DeployOptions): Promise<DeployedFunction> {
      const { clients, subscriptionId } = await ready()
      // A package with the storage (nosql) module gets the connection in its
      // app settings, whichever order the harness sets up storage and deploys
      // in; what the harness passes in options.env wins.
      const modules = await packagedModules(pkg.path)
      let providedEnv: Record<string, string> = {}
      if (modules.has('storage')) providedEnv = { ...providedEnv, ...blobFunctionEnv((await provider.storage()).connection) }
      if (modules.has('nosql')) providedEnv = { ...providedEnv, ...noSqlFunctionEnv((await provider.nosql!()).connection) }
      return deployFunctionApp(pkg, { ...options, env: { ...providedEnv, ...options.env } }, {
        clients: async () => clients,
        logger,
        timings,
        ...codeUpload,
        options: opts,
        subscriptionId,
        nosqlDatabase,
      })
    },

    storage(): Promise<ObjectStorage> {
      storage ??= (async () => {
        const { clients: c, subscriptionId } = await (opts.endpoints.blobConnectionString ? verified() : ready())
        const bucket = benchmarksContainer(resourceId(subscriptionId))
        let connectionString = opts.endpoints.blobConnectionString
        if (!connectionString) {
          const group = await ensureDataGroup(c, subscriptionId)
          const account = dataStorageAccount(resourceId(subscriptionId))
          try {
            await c.storage.storageAccounts.create(
              group,
              account,
              {
                sku: { name: 'Standard_LRS' },
                kind: 'StorageV2',
                location: opts.region,
                tags: sebsTags(ctx.runId, { [TAG_KIND]: 'data' }),
                minimumTlsVersion: 'TLS1_2',
                allowBlobPublicAccess: false,
                enableHttpsTrafficOnly: true,
              },
              { updateIntervalInMs: timings.lroPollMs },
            )
            const key = (await c.storage.storageAccounts.listKeys(group, account)).keys?.find((k) => k.value)?.value
            if (!key) throw new Error('listKeys returned no key')
            connectionString = `DefaultEndpointsProtocol=https;AccountName=${account};AccountKey=${key};EndpointSuffix=core.windows.net`
          } catch (err) {
            throw new ProviderError('azure', 'STORAGE_FAILED', `Setting up storage account ${account} failed: ${errorMessage(err)}`, { cause: err })
          }
        }
        const { blobEndpoint } = describeConnectionString(connectionString)
        const s = createBlobStorage({ kind: 'azure-blob', endpoint: blobEndpoint ?? '', bucket, connectionString })
        await s.ensureBucket(bucket)
        return s
      })().catch((err) => {
        storage = undefined
        throw err
      })
      return storage
    },

    nosql(): Promise<NoSqlStorage> {
      nosql ??= (async () => {
        const { clients: c, subscriptionId } = await verified()
        await ensureRegistered(c, NOSQL_NAMESPACES)
        const group = await ensureDataGroup(c, subscriptionId)
        const account = cosmosAccountName(opts.resourceGroupPrefix, resourceId(subscriptionId))
        const id = `/subscriptions/${subscriptionId}/resourceGroups/${group}/providers/Microsoft.DocumentDB/databaseAccounts/${account}`
        let endpoint: string
        let key: string
        try {
          const created = await c.resources.resources.beginCreateOrUpdateByIdAndWait(
            // The SDK's URL template is '/{resourceId}': without the leading slash the path has none doubled.
            id.replace(/^\//, ''),
            COSMOS_API,
            {
              location: opts.region,
              kind: 'GlobalDocumentDB',
              tags: sebsTags(ctx.runId, { [TAG_KIND]: 'data' }),
              properties: {
                databaseAccountOfferType: 'Standard',
                locations: [{ locationName: opts.region, failoverPriority: 0 }],
                // Serverless: billed per request, nothing provisioned while idle (SeBS does the same).
                capabilities: [{ name: 'EnableServerless' }],
              },
            },
            { updateIntervalInMs: timings.lroPollMs },
          )
          endpoint = String((created.properties as { documentEndpoint?: string } | undefined)?.documentEndpoint ?? '')
          if (!endpoint) throw new Error('the account has no documentEndpoint')
          const keys = await c.arm<{ primaryMasterKey?: string }>('POST', `${id}/listKeys`, { query: { 'api-version': COSMOS_API } })
          if (keys.status !== 200 || !keys.body?.primaryMasterKey) throw new Error(`listKeys answered HTTP ${keys.status}`)
          key = keys.body.primaryMasterKey
        } catch (err) {
          throw new ProviderError('azure', 'STORAGE_FAILED', `Setting up Cosmos DB account ${account} failed: ${errorMessage(err)}`, { cause: err })
        }
        const store = createCosmosNoSql({ kind: 'cosmosdb', endpoint, secretKey: key, tables: {} }, { database: COSMOS_DATABASE })
        nosqlDatabase = store.database
        return store
      })().catch((err) => {
        nosql = undefined
        throw err
      })
      return nosql
    },

    connect(handle: FunctionHandle): DeployedFunction {
      if (handle.provider !== 'azure') {
        throw new ProviderError('azure', 'NOT_SUPPORTED', `Handle of function ${handle.name} belongs to provider '${handle.provider}'.`)
      }
      const data = handle.data as unknown as AzureFunctionData
      // Workers build their own clients from the environment's credential, only when they need the control plane.
      return new DeployedAzureFunction(handle, { clients: workerClients(data), logger, timings, ...codeUpload })
    },

    async sweep(options: { runId?: string; dryRun: boolean }): Promise<SweptResource[]> {
      const { clients: c } = await verified()
      return sweepAzure(c, { logger, timings }, options)
    },

    async close() {
      const s = storage
      const n = nosql
      storage = undefined
      nosql = undefined
      if (s) await (await s.catch(() => undefined))?.close()
      if (n) await (await n.catch(() => undefined))?.close()
    },
  }
  return provider
}

/**
 * The Azure provider as the registry sees it. Workers connect through the
 * whole provider (its `connect` builds clients from the credential chain).
 */
export const azureProvider = defineProvider({
  name: 'azure',
  create: (ctx) => createAzureProvider(ctx),
  connectStorage: async (connection) => createBlobStorage(connection),
  functionEnv: (storage, nosql) => ({ ...blobFunctionEnv(storage), ...noSqlFunctionEnv(nosql) }),
  // Flex Consumption unless the config picks the legacy plan (see config.ts).
  defaultCostModel: (_arch, section) => (section?.plan === 'consumption' ? 'azure-consumption' : 'azure-flex'),
  options: (section) => section,
  functionsOnThisMachine: false,
  remoteCredentials: true,
})
