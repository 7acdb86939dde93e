/**
 * A fake Azure for tests, at the HTTP level, on one loopback server:
 *
 * - **Resource Manager**: subscriptions, resource provider registration
 *   (`NotRegistered` → `Registering` → `Registered`; a PUT of an unregistered
 *   namespace's resource answers 409 MissingSubscriptionRegistration, as a
 *   fresh subscription does), resource groups (tag filter, delete as a
 *   long-running operation), storage accounts (202 + Location polling,
 *   listKeys), Consumption (Y1) and Flex Consumption (FC1) plans and function
 *   apps (201/202 + Azure-AsyncOperation polling, then the final GET), app
 *   settings (PUT and POST …/list), syncfunctiontriggers, generic resources
 *   (Log Analytics workspaces, workspace-based Application Insights
 *   components, Cosmos DB accounts + listKeys). Responses follow the shapes
 *   of the ARM REST reference; every call needs a bearer token.
 * - **What Azure refuses**: a missing or (for `functionAppConfig`) too old
 *   api-version, a Linux plan or app without `reserved`/`kind` linux,
 *   `linuxFxVersion` that disagrees with FUNCTIONS_WORKER_RUNTIME on Y1, the
 *   runtime settings (FUNCTIONS_WORKER_RUNTIME, FUNCTIONS_EXTENSION_VERSION,
 *   WEBSITE_RUN_FROM_PACKAGE, linuxFxVersion) on FC1, runtimes and instance
 *   sizes FC1 does not offer, a site name taken in another resource group,
 *   classic (non-workspace) Application Insights, and packages over
 *   `maxPackageBytes`.
 * - **The deployment endpoint of Flex apps** (`/scm/<app>/api/publish`, One
 *   Deploy): stores the zip in the app's deployment container (Azurite,
 *   through the connection string the app's functionAppConfig names), syncs
 *   the triggers and restarts the app; `/scm/<app>/api/deployments/<id>`
 *   reports Kudu's status (4 = success).
 * - **The function host** (`/sites/<app>/api/<function>`): once the app's
 *   triggers were synced, an instance downloads the zip from
 *   WEBSITE_RUN_FROM_PACKAGE (a SAS URL into Azurite) or, on Flex, from the
 *   deployment container, unpacks it, reads
 *   host.json and the function folders' function.json, and runs the packaged
 *   wrapper in a real language-worker process (node for the v3 model, python3
 *   with a stand-in `azure.functions`), with its own TMPDIR and only the app
 *   settings plus platform variables as environment. The host enforces the
 *   function timeout (AzureFunctionsJobHost__functionTimeout, else host.json,
 *   else 5 min) by answering 500 and shutting the instance down; a settings
 *   change restarts the app (new instances); deleting the app or its group
 *   stops them.
 * - **Application Insights query API** (`/v1/apps/<appId>/query`): one
 *   `requests` row per execution (invocation id, duration), visible after an
 *   ingestion delay.
 *
 * Clients reach ARM as `https://127.0.0.1:<port>` (the provider maps its
 * loopback http endpoint that way), so Location / Azure-AsyncOperation URLs
 * are written with https, as Azure writes them.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { createWriteStream, existsSync } from 'node:fs'
import { chmod, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { dirname, join, resolve, sep } from 'node:path'
import { createInterface } from 'node:readline'
import { pipeline } from 'node:stream/promises'
import { fileURLToPath } from 'node:url'
import { BlobServiceClient } from '@azure/storage-blob'
import yauzl from 'yauzl'

const here = dirname(fileURLToPath(import.meta.url))

export interface FakeAzureOptions {
  /** Scratch directory: unpacked packages and instance TMPDIRs. */
  workDir: string
  subscriptionId?: string
  /** Polls of a long-running operation that still report InProgress / 202. */
  lroPolls?: number
  /** How long a request row takes to become visible to queries, ms. */
  ingestionDelayMs?: number
  python?: string
  node?: string
  /** What Cosmos DB accounts point at (a fake Cosmos server and its key), when tests need one. */
  cosmos?: { endpoint: string; key: string }
  /** Resource provider namespaces the subscription has not registered yet (a fresh subscription). */
  unregisteredProviders?: string[]
  /** GETs of a namespace that still answer `Registering` after its register call. */
  registrationPolls?: number
  /** Largest package the platform accepts (publish body, run-from-package blob), bytes. */
  maxPackageBytes?: number
}

/** The first api-version of Microsoft.Web that knows `functionAppConfig` (Flex Consumption). */
export const FLEX_MIN_API_VERSION = '2023-12-01'
/** Runtimes Flex Consumption offers (name → versions). */
export const FLEX_RUNTIMES: Record<string, string[]> = { python: ['3.10', '3.11', '3.12', '3.13'], node: ['20', '22'] }
/** App settings Flex Consumption refuses: what they set lives in functionAppConfig. */
export const FLEX_REFUSED_SETTINGS = ['FUNCTIONS_WORKER_RUNTIME', 'FUNCTIONS_EXTENSION_VERSION', 'WEBSITE_RUN_FROM_PACKAGE', 'WEBSITE_NODE_DEFAULT_VERSION', 'WEBSITE_CONTENTSHARE', 'WEBSITE_CONTENTAZUREFILECONNECTIONSTRING']

export interface ArmCall {
  method: string
  path: string
  apiVersion?: string
  body?: unknown
}

interface Resource {
  id: string
  name: string
  type: string
  location?: string
  kind?: string
  tags?: Record<string, string>
  sku?: unknown
  properties: Record<string, unknown>
}

interface Operation {
  pollsLeft: number
  /** What finishing the operation does (create the resource, delete the group). */
  finish: () => void | Promise<void>
  done: boolean
  /** Location-style polls answer with this once done (GET of the resource). */
  finalBody?: () => unknown
}

interface Worker {
  proc: ChildProcess
  ready: Promise<void>
  pending: Map<string, (msg: WorkerMessage) => void>
  dead: boolean
}

type WorkerMessage =
  | { type: 'ready' }
  | { type: 'init-error'; message: string }
  | { type: 'response'; id: string; status: number; headers: Record<string, string>; body: string }
  | { type: 'error'; id: string; message: string }
  | { type: 'exit' }

interface Instance {
  id: string
  tmpDir: string
  /** The app settings it was started with (a restart makes a new instance). */
  settingsVersion: number
  worker?: Worker
  codeDir: string
}

interface App {
  id: string
  name: string
  resourceGroup: string
  plan: 'Y1' | 'FC1'
  /** FC1: runtime name and version, deployment container and the setting holding its connection string. */
  flex?: { runtime: string; version: string; instanceMemoryMB: number; container: string; connectionSetting: string }
  /** FC1: the unpacked code of the last successful publish. */
  publishedDir?: string
  settings: Record<string, string>
  settingsVersion: number
  synced: boolean
  instance?: Instance
  instancesStarted: number
}

export interface RequestRow {
  appName: string
  invocationId: string
  timestamp: number
  durationMs: number
  success: boolean
  resultCode: string
  visibleAt: number
}

const FUNCTION_NOT_FOUND = 'Function not found'

function parseTimeout(text: string | undefined): number | undefined {
  if (!text) return undefined
  const m = /^(\d+):(\d{2}):(\d{2})(?:\.\d+)?$/.exec(text.trim())
  if (!m) return undefined
  return (Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3])) * 1000
}

/** Unpacks a zip (modes kept) into `dest`. */
export async function extractZip(zip: Buffer, dest: string): Promise<void> {
  await mkdir(dest, { recursive: true })
  const root = resolve(dest)
  const file = await new Promise<yauzl.ZipFile>((res, rej) => yauzl.fromBuffer(zip, { lazyEntries: true }, (err, z) => (err || !z ? rej(err) : res(z))))
  await new Promise<void>((res, rej) => {
    file.on('error', rej)
    file.on('end', () => res())
    file.on('entry', (entry: yauzl.Entry) => {
      const target = resolve(root, entry.fileName)
      if (target !== root && !target.startsWith(root + sep)) return rej(new Error(`zip entry escapes: ${entry.fileName}`))
      const mode = (entry.externalFileAttributes >>> 16) & 0o177777
      if (entry.fileName.endsWith('/')) {
        mkdir(target, { recursive: true }).then(() => file.readEntry(), rej)
        return
      }
      if ((mode & 0o170000) === 0o120000) return rej(new Error(`zip entry is a symlink: ${entry.fileName}`))
      file.openReadStream(entry, (err, stream) => {
        if (err || !stream) return rej(err)
        ;(async () => {
          await mkdir(dirname(target), { recursive: true })
          await pipeline(stream, createWriteStream(target))
          if (mode & 0o111) await chmod(target, 0o755)
        })().then(() => file.readEntry(), rej)
      })
    })
    file.readEntry()
  })
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of req) chunks.push(c as Buffer)
  return Buffer.concat(chunks)
}

function json(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? '' : JSON.stringify(body)
  res.writeHead(status, { ...(text ? { 'content-type': 'application/json; charset=utf-8' } : {}), 'x-ms-request-id': randomUUID(), ...headers })
  res.end(text)
}

function armError(res: ServerResponse, status: number, code: string, message: string): void {
  json(res, status, { error: { code, message } })
}

export class FakeAzure {
  readonly subscriptionId: string
  readonly calls: ArmCall[] = []
  /** Tokens seen on ARM and query calls (tests check the credential was used). */
  readonly tokens = new Set<string>()
  readonly groups = new Map<string, { name: string; location: string; tags: Record<string, string> }>()
  readonly resources = new Map<string, Resource>()
  readonly apps = new Map<string, App>()
  readonly rows: RequestRow[] = []
  /** Storage account keys handed out by listKeys (secret-scan tests look for them). */
  readonly issuedSecrets: string[] = []
  private readonly operations = new Map<string, Operation>()
  private readonly packageDirs = new Map<string, Promise<string>>()
  private server!: Server
  private origin = ''
  private readonly opts: Required<Omit<FakeAzureOptions, 'cosmos'>> & { cosmos?: { endpoint: string; key: string } }
  /** namespace (lowercase) → registration state and the polls left while Registering. */
  readonly registrations = new Map<string, { namespace: string; state: 'NotRegistered' | 'Registering' | 'Registered'; pollsLeft: number }>()
  /** Deployments made through the Flex deployment endpoint. */
  readonly deployments = new Map<string, { app: string; status: number; statusText: string; sizeBytes: number }>()
  /** Fail the next N calls whose `METHOD path` matches (tests of error paths). */
  readonly failures: Array<{ match: RegExp; status: number; code: string; times: number }> = []

  constructor(options: FakeAzureOptions) {
    this.opts = {
      subscriptionId: options.subscriptionId ?? '00000000-0000-4000-8000-000000000001',
      lroPolls: options.lroPolls ?? 1,
      ingestionDelayMs: options.ingestionDelayMs ?? 0,
      python: options.python ?? 'python3',
      node: options.node ?? process.execPath,
      workDir: options.workDir,
      cosmos: options.cosmos,
      unregisteredProviders: options.unregisteredProviders ?? [],
      registrationPolls: options.registrationPolls ?? 1,
      maxPackageBytes: options.maxPackageBytes ?? 1024 * 1024 * 1024,
    }
    this.subscriptionId = this.opts.subscriptionId
    for (const ns of this.opts.unregisteredProviders) this.registrations.set(ns.toLowerCase(), { namespace: ns, state: 'NotRegistered', pollsLeft: 0 })
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err) => {
        if (!res.headersSent) armError(res, 500, 'InternalServerError', String(err?.stack ?? err))
        else res.destroy()
      })
    })
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r))
    const port = (this.server.address() as AddressInfo).port
    this.origin = `127.0.0.1:${port}`
    return this
  }

  /** ARM as the provider is configured with it (loopback http). */
  get managementEndpoint(): string {
    return `http://${this.origin}`
  }
  /** The `endpoints.scm` template (Flex deployment endpoint). */
  get scmEndpoint(): string {
    return `http://${this.origin}/scm/{app}`
  }
  /** The `endpoints.functions` template. */
  get functionsEndpoint(): string {
    return `http://${this.origin}/sites/{app}`
  }
  get appInsightsEndpoint(): string {
    return `http://${this.origin}`
  }

  async close(): Promise<void> {
    for (const app of this.apps.values()) this.stopInstance(app)
    await new Promise<void>((r) => this.server.close(() => r()))
    this.server.closeAllConnections?.()
  }

  /** Live worker processes of an app (the conformance suite's instance probe). */
  liveWorkers(appName: string): number {
    const app = this.apps.get(appName.toLowerCase())
    return app?.instance?.worker && !app.instance.worker.dead ? 1 : 0
  }

  // -------------------------------------------------------------------------
  // routing

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', `http://${this.origin}`)
    const path = url.pathname
    if (path.startsWith('/sites/')) return this.serveFunction(req, res, url)

    const auth = req.headers.authorization
    if (!auth?.startsWith('Bearer ') || auth.length <= 'Bearer '.length) {
      return armError(res, 401, 'AuthenticationFailed', 'Authentication failed. The Authorization header is missing.')
    }
    this.tokens.add(auth.slice('Bearer '.length))
    if (path.startsWith('/scm/')) return this.scm(req, res, url)
    const raw = await readBody(req)
    let body: unknown
    try {
      body = raw.length ? JSON.parse(raw.toString('utf8')) : undefined
    } catch {
      return armError(res, 400, 'InvalidRequestContent', 'The request content was invalid and could not be deserialized.')
    }
    const method = req.method ?? 'GET'
    if (path.startsWith('/v1/apps/')) return this.query(res, path, body)
    this.calls.push({ method, path, apiVersion: url.searchParams.get('api-version') ?? undefined, body })
    const failure = this.failures.find((f) => f.times > 0 && f.match.test(`${method} ${path}`))
    if (failure) {
      failure.times--
      return armError(res, failure.status, failure.code, `Injected failure for ${method} ${path}`)
    }
    if (path.startsWith('/mock/operations/')) return this.pollOperation(res, path.split('/').pop()!, 'async')
    if (path.startsWith('/mock/locations/')) return this.pollOperation(res, path.split('/').pop()!, 'location')
    if (!url.searchParams.get('api-version')) return armError(res, 400, 'MissingApiVersionParameter', "The api-version query parameter (?api-version=) is required for all requests.")

    const seg = path.split('/').filter(Boolean).map(decodeURIComponent)
    if (seg[0]?.toLowerCase() !== 'subscriptions' || !seg[1]) return armError(res, 404, 'NotFound', `No route for ${method} ${path}`)
    if (seg[1] !== this.subscriptionId) return armError(res, 404, 'SubscriptionNotFound', `The subscription '${seg[1]}' could not be found.`)
    if (seg.length === 2 && method === 'GET') {
      return json(res, 200, { id: `/subscriptions/${this.subscriptionId}`, subscriptionId: this.subscriptionId, displayName: 'fake', state: 'Enabled' })
    }
    if (seg[2]?.toLowerCase() === 'providers' && seg[3]) return this.providerRoute(res, method, seg[3], seg[4]?.toLowerCase())
    if (seg[2]?.toLowerCase() !== 'resourcegroups') return armError(res, 404, 'NotFound', `No route for ${method} ${path}`)
    if (seg.length === 3 && method === 'GET') return this.listGroups(res, url)
    const group = seg[3]!
    if (seg.length === 4) return this.groupRoute(res, method, group, body)
    if (seg[4]?.toLowerCase() !== 'providers' || seg.length < 8) return armError(res, 404, 'NotFound', `No route for ${method} ${path}`)
    if (!this.groups.has(group.toLowerCase())) return armError(res, 404, 'ResourceGroupNotFound', `Resource group '${group}' could not be found.`)
    const type = `${seg[5]}/${seg[6]}`
    const name = seg[7]!
    const id = `/subscriptions/${this.subscriptionId}/resourceGroups/${this.groups.get(group.toLowerCase())!.name}/providers/${type}/${name}`
    const action = seg.slice(8).join('/').toLowerCase()
    return this.resourceRoute(res, method, id, type, name, group, action, body, url.searchParams.get('api-version') ?? '')
  }

  /** `GET /subscriptions/<id>/providers/<ns>` and `POST …/<ns>/register`. */
  private providerRoute(res: ServerResponse, method: string, namespace: string, action: string | undefined): void {
    const key = namespace.toLowerCase()
    const reg = this.registrations.get(key) ?? { namespace, state: 'Registered' as const, pollsLeft: 0 }
    if (action === 'register' && method === 'POST') {
      if (reg.state === 'NotRegistered') {
        reg.state = 'Registering'
        reg.pollsLeft = this.opts.registrationPolls
        this.registrations.set(key, reg)
      }
    } else if (action === undefined && method === 'GET') {
      if (reg.state === 'Registering' && reg.pollsLeft-- <= 0) reg.state = 'Registered'
    } else {
      return armError(res, 404, 'NotFound', `No route for ${method} providers/${namespace}/${action ?? ''}`)
    }
    json(res, 200, { id: `/subscriptions/${this.subscriptionId}/providers/${reg.namespace}`, namespace: reg.namespace, registrationState: reg.state, resourceTypes: [] })
  }

  /** Whether a namespace may be used (a fresh subscription refuses until it is registered). */
  private registered(namespace: string): boolean {
    const reg = this.registrations.get(namespace.toLowerCase())
    return !reg || reg.state === 'Registered'
  }

  private listGroups(res: ServerResponse, url: URL): void {
    const filter = url.searchParams.get('$filter') ?? ''
    const m = /tagName eq '([^']+)' and tagValue eq '([^']*)'/.exec(filter)
    const value = [...this.groups.values()]
      .filter((g) => !m || g.tags[m[1]!] === m[2])
      .map((g) => this.groupBody(g))
    json(res, 200, { value })
  }

  private groupBody(g: { name: string; location: string; tags: Record<string, string> }) {
    return {
      id: `/subscriptions/${this.subscriptionId}/resourceGroups/${g.name}`,
      name: g.name,
      type: 'Microsoft.Resources/resourceGroups',
      location: g.location,
      tags: g.tags,
      properties: { provisioningState: 'Succeeded' },
    }
  }

  private groupRoute(res: ServerResponse, method: string, name: string, body: unknown): void {
    const key = name.toLowerCase()
    const existing = this.groups.get(key)
    if (method === 'GET') {
      if (!existing) return armError(res, 404, 'ResourceGroupNotFound', `Resource group '${name}' could not be found.`)
      return json(res, 200, this.groupBody(existing))
    }
    if (method === 'PUT') {
      const b = (body ?? {}) as { location?: string; tags?: Record<string, string> }
      if (!b.location) return armError(res, 400, 'LocationRequired', 'The location property is required for this definition.')
      const g = { name: existing?.name ?? name, location: b.location, tags: b.tags ?? {} }
      this.groups.set(key, g)
      return json(res, existing ? 200 : 201, this.groupBody(g))
    }
    if (method === 'DELETE') {
      if (!existing) return armError(res, 404, 'ResourceGroupNotFound', `Resource group '${name}' could not be found.`)
      const op = this.newOperation(() => this.deleteGroup(key))
      // ARM: 202 with a Location to poll; 202 while deleting, 200 when gone.
      return json(res, 202, undefined, { location: `https://${this.origin}/mock/locations/${op}`, 'retry-after': '0' })
    }
    armError(res, 405, 'MethodNotAllowed', `${method} is not supported on resource groups`)
  }

  private deleteGroup(key: string): void {
    const g = this.groups.get(key)
    if (!g) return
    const prefix = `/subscriptions/${this.subscriptionId}/resourcegroups/${key}/`
    for (const [id] of this.resources) if (id.startsWith(prefix)) this.resources.delete(id)
    for (const [name, app] of this.apps) {
      if (app.resourceGroup.toLowerCase() === key) {
        this.stopInstance(app)
        this.apps.delete(name)
      }
    }
    this.groups.delete(key)
  }

  private newOperation(finish: () => void | Promise<void>, finalBody?: () => unknown): string {
    const id = randomUUID()
    this.operations.set(id, { pollsLeft: this.opts.lroPolls, finish, done: false, finalBody })
    return id
  }

  private async pollOperation(res: ServerResponse, id: string, style: 'async' | 'location'): Promise<void> {
    const op = this.operations.get(id)
    if (!op) return armError(res, 404, 'OperationNotFound', `Operation ${id} not found`)
    if (op.pollsLeft > 0) {
      op.pollsLeft--
      if (style === 'async') return json(res, 200, { id, name: id, status: 'InProgress' })
      return json(res, 202, undefined, { location: `https://${this.origin}/mock/locations/${id}` })
    }
    if (!op.done) {
      await op.finish()
      op.done = true
    }
    if (style === 'async') return json(res, 200, { id, name: id, status: 'Succeeded' })
    const final = op.finalBody?.()
    return final === undefined ? json(res, 200) : json(res, 200, final)
  }

  // -------------------------------------------------------------------------
  // resources

  private resourceBody(r: Resource): unknown {
    // Fields starting with '_' (keys) are the fake's own and never leave it except through listKeys.
    return { id: r.id, name: r.name, type: r.type, location: r.location, kind: r.kind, tags: r.tags, sku: r.sku, properties: this.publicProps(r) }
  }

  private async resourceRoute(
    res: ServerResponse,
    method: string,
    id: string,
    type: string,
    name: string,
    group: string,
    action: string,
    body: unknown,
    apiVersion: string,
  ): Promise<void> {
    const key = id.toLowerCase()
    const existing = this.resources.get(key)
    const lowerType = type.toLowerCase()

    if (action) {
      if (!existing) return armError(res, 404, 'ResourceNotFound', `The Resource '${type}/${name}' under resource group '${group}' was not found.`)
      if (lowerType === 'microsoft.storage/storageaccounts' && action === 'listkeys' && method === 'POST') {
        return json(res, 200, {
          keys: [
            { keyName: 'key1', value: existing.properties._key1, permissions: 'FULL' },
            { keyName: 'key2', value: existing.properties._key2, permissions: 'FULL' },
          ],
        })
      }
      if (lowerType === 'microsoft.documentdb/databaseaccounts' && action === 'listkeys' && method === 'POST') {
        return json(res, 200, { primaryMasterKey: existing.properties._key1, secondaryMasterKey: existing.properties._key2 })
      }
      if (lowerType === 'microsoft.web/sites') {
        const app = this.apps.get(name.toLowerCase())!
        if (action === 'config/appsettings' && method === 'PUT') {
          const props = ((body ?? {}) as { properties?: Record<string, string> }).properties
          if (!props || typeof props !== 'object') return armError(res, 400, 'BadRequest', 'properties is required')
          if (app.plan === 'FC1') {
            const refused = this.flexRefusedSetting(props)
            if (refused) return armError(res, 400, 'BadRequest', refused)
          }
          app.settings = { ...props }
          this.restart(app)
          return json(res, 200, { id: `${id}/config/appsettings`, name: 'appsettings', type: 'Microsoft.Web/sites/config', properties: app.settings })
        }
        if (action === 'config/appsettings/list' && method === 'POST') {
          return json(res, 200, { id: `${id}/config/appsettings`, name: 'appsettings', type: 'Microsoft.Web/sites/config', properties: app.settings })
        }
        if (action === 'syncfunctiontriggers' && method === 'POST') {
          app.synced = true
          res.writeHead(204)
          return void res.end()
        }
      }
      return armError(res, 404, 'NotFound', `No route for ${method} ${id}/${action}`)
    }

    if (method === 'GET') {
      if (!existing) return armError(res, 404, 'ResourceNotFound', `The Resource '${type}/${name}' under resource group '${group}' was not found.`)
      return json(res, 200, this.resourceBody(existing))
    }
    if (method === 'DELETE') {
      if (!existing) return json(res, 204)
      this.resources.delete(key)
      const app = this.apps.get(name.toLowerCase())
      if (lowerType === 'microsoft.web/sites' && app) {
        this.stopInstance(app)
        this.apps.delete(name.toLowerCase())
      }
      return json(res, 200)
    }
    if (method !== 'PUT') return armError(res, 405, 'MethodNotAllowed', `${method} ${type}`)
    const namespace = type.split('/')[0]!
    if (!this.registered(namespace)) {
      return armError(
        res,
        409,
        'MissingSubscriptionRegistration',
        `The subscription is not registered to use namespace '${namespace}'. See https://aka.ms/rps-not-found for how to register subscriptions.`,
      )
    }

    const b = (body ?? {}) as { location?: string; kind?: string; tags?: Record<string, string>; sku?: unknown; properties?: Record<string, unknown> }
    if (!b.location) return armError(res, 400, 'LocationRequired', 'The location property is required for this definition.')
    const resource: Resource = {
      id,
      name,
      type,
      location: b.location,
      kind: b.kind,
      tags: b.tags,
      sku: b.sku,
      properties: { ...(existing?.properties ?? {}), ...(b.properties ?? {}) },
    }

    switch (lowerType) {
      case 'microsoft.storage/storageaccounts': {
        if (!/^[a-z0-9]{3,24}$/.test(name)) return armError(res, 400, 'AccountNameInvalid', `${name} is not a valid storage account name.`)
        resource.properties._key1 ??= randomBytes(64).toString('base64')
        resource.properties._key2 ??= randomBytes(64).toString('base64')
        this.issuedSecrets.push(String(resource.properties._key1), String(resource.properties._key2))
        resource.properties.primaryEndpoints = { blob: `https://${name}.blob.core.windows.net/` }
        resource.properties.provisioningState = 'Succeeded'
        // Storage: 202 Accepted, no body, a Location to poll until 200 with the account.
        const op = this.newOperation(
          () => void this.resources.set(key, resource),
          () => this.resourceBody(resource),
        )
        return json(res, 202, undefined, { location: `https://${this.origin}/mock/locations/${op}`, 'retry-after': '0' })
      }
      case 'microsoft.web/serverfarms': {
        const sku = b.sku as { name?: string; tier?: string } | undefined
        const flex = sku?.name === 'FC1' && sku.tier === 'FlexConsumption'
        const y1 = sku?.name === 'Y1' && sku.tier === 'Dynamic'
        if (!flex && !y1) return armError(res, 400, 'BadRequest', `The fake knows the Consumption (Y1/Dynamic) and Flex Consumption (FC1/FlexConsumption) plans, not ${JSON.stringify(sku)}.`)
        const reserved = (b.properties as { reserved?: boolean })?.reserved
        // Flex is Linux only; a plan without reserved=true is a Windows plan.
        if (flex && reserved !== true) return armError(res, 400, 'BadRequest', 'Flex Consumption plans are Linux only: set properties.reserved to true.')
        resource.properties = { ...resource.properties, provisioningState: 'Succeeded', status: 'Ready', reserved }
        return this.asyncCreate(res, key, resource, 201)
      }
      case 'microsoft.web/sites': {
        const p = (b.properties ?? {}) as {
          serverFarmId?: string
          reserved?: boolean
          siteConfig?: { appSettings?: Array<{ name: string; value: string }>; linuxFxVersion?: string }
          functionAppConfig?: {
            deployment?: { storage?: { type?: string; value?: string; authentication?: { type?: string; storageAccountConnectionStringName?: string } } }
            runtime?: { name?: string; version?: string }
            scaleAndConcurrency?: { instanceMemoryMB?: number; maximumInstanceCount?: number }
          }
        }
        const farm = p.serverFarmId ? this.resources.get(p.serverFarmId.toLowerCase()) : undefined
        if (!farm) return armError(res, 400, 'BadRequest', `The server farm '${p.serverFarmId}' does not exist.`)
        if (!/^[a-z0-9][a-z0-9-]{0,58}[a-z0-9]$/.test(name)) return armError(res, 400, 'InvalidSiteName', `${name} is not a valid site name.`)
        // Site names are global (they are DNS names): one in another group or subscription is taken.
        const taken = this.apps.get(name.toLowerCase())
        if (taken && taken.resourceGroup.toLowerCase() !== group.toLowerCase()) {
          return armError(res, 409, 'Conflict', `Website with given name ${name} already exists.`)
        }
        const settings = Object.fromEntries((p.siteConfig?.appSettings ?? []).map((s) => [s.name, s.value]))
        const kind = (b.kind ?? '').toLowerCase().split(',')
        const linuxPlan = farm.properties.reserved === true
        if (linuxPlan && (!kind.includes('functionapp') || !kind.includes('linux') || p.reserved !== true)) {
          return armError(res, 400, 'BadRequest', `A function app on a Linux plan needs kind 'functionapp,linux' and properties.reserved=true (got kind '${b.kind}', reserved ${p.reserved}).`)
        }
        const planSku = (farm.sku as { name?: string } | undefined)?.name === 'FC1' ? 'FC1' : 'Y1'
        let flex: App['flex']
        if (planSku === 'FC1') {
          const refused = this.flexRefusedSetting(settings) ?? (p.siteConfig?.linuxFxVersion ? 'The site property siteConfig.linuxFxVersion is invalid for Flex Consumption sites: the runtime is set in functionAppConfig.runtime.' : undefined)
          if (refused) return armError(res, 400, 'BadRequest', refused)
          const fac = p.functionAppConfig
          if (!fac) return armError(res, 400, 'BadRequest', 'Flex Consumption sites need properties.functionAppConfig (deployment storage, runtime, scale and concurrency).')
          if (apiVersion < FLEX_MIN_API_VERSION) {
            return armError(res, 400, 'BadRequest', `functionAppConfig is not known to api-version ${apiVersion}; Flex Consumption needs ${FLEX_MIN_API_VERSION} or later.`)
          }
          const st = fac.deployment?.storage
          if (st?.type !== 'blobContainer' || !st.value) return armError(res, 400, 'BadRequest', 'functionAppConfig.deployment.storage needs type blobContainer and the container URL as value.')
          const connectionSetting = st.authentication?.storageAccountConnectionStringName
          if (st.authentication?.type !== 'StorageAccountConnectionString' || !connectionSetting || !settings[connectionSetting]) {
            return armError(res, 400, 'BadRequest', 'functionAppConfig.deployment.storage.authentication must name an app setting that holds the storage connection string (the fake supports StorageAccountConnectionString only).')
          }
          const rt = fac.runtime
          if (!rt?.name || !FLEX_RUNTIMES[rt.name]) return armError(res, 400, 'BadRequest', `functionAppConfig.runtime.name '${rt?.name}' is not a Flex Consumption runtime (${Object.keys(FLEX_RUNTIMES).join(', ')}).`)
          if (!rt.version || !FLEX_RUNTIMES[rt.name]!.includes(rt.version)) {
            return armError(res, 400, 'BadRequest', `Runtime ${rt.name} version '${rt.version}' is not supported on Flex Consumption (supported: ${FLEX_RUNTIMES[rt.name]!.join(', ')}).`)
          }
          const mem = fac.scaleAndConcurrency?.instanceMemoryMB ?? 2048
          if (![512, 2048, 4096].includes(mem)) return armError(res, 400, 'BadRequest', `instanceMemoryMB ${mem} is invalid; Flex Consumption offers 512, 2048 and 4096.`)
          const container = decodeURIComponent(new URL(st.value).pathname.split('/').filter(Boolean).pop() ?? '')
          flex = { runtime: rt.name, version: rt.version, instanceMemoryMB: mem, container, connectionSetting }
        } else {
          if (p.functionAppConfig) return armError(res, 400, 'BadRequest', 'functionAppConfig is only valid for Flex Consumption sites.')
          const fx = p.siteConfig?.linuxFxVersion ?? ''
          const worker = settings.FUNCTIONS_WORKER_RUNTIME
          const fxRuntime = fx.split('|')[0]?.toLowerCase()
          if (linuxPlan && (!fx || !worker || (fxRuntime === 'python' ? 'python' : fxRuntime === 'node' ? 'node' : fxRuntime) !== worker)) {
            return armError(res, 400, 'BadRequest', `linuxFxVersion '${fx}' does not match FUNCTIONS_WORKER_RUNTIME '${worker}'.`)
          }
        }
        resource.properties = {
          ...resource.properties,
          state: 'Running',
          defaultHostName: `${name}.azurewebsites.net`,
          provisioningState: 'Succeeded',
          siteConfig: { linuxFxVersion: p.siteConfig?.linuxFxVersion },
          ...(p.functionAppConfig ? { functionAppConfig: p.functionAppConfig } : {}),
          sku: planSku === 'FC1' ? 'FlexConsumption' : 'Dynamic',
        }
        const appKey = name.toLowerCase()
        return this.asyncCreate(res, key, resource, 202, () => {
          const old = this.apps.get(appKey)
          if (old) this.stopInstance(old)
          this.apps.set(appKey, { id, name, resourceGroup: group, plan: planSku, ...(flex ? { flex } : {}), settings, settingsVersion: 0, synced: false, instancesStarted: 0 })
        })
      }
      case 'microsoft.operationalinsights/workspaces': {
        resource.properties = { ...resource.properties, customerId: existing?.properties.customerId ?? randomUUID(), provisioningState: 'Succeeded' }
        return this.asyncCreate(res, key, resource, 201)
      }
      case 'microsoft.insights/components': {
        // Classic components were retired on 2024-02-29; regions now refuse them.
        const props = (b.properties ?? {}) as { IngestionMode?: string; WorkspaceResourceId?: string }
        if (!props.WorkspaceResourceId || props.IngestionMode === 'ApplicationInsights') {
          return armError(res, 400, 'BadRequest', 'Classic Application Insights resources are retired: create a workspace-based resource (properties.WorkspaceResourceId, IngestionMode LogAnalytics).')
        }
        if (!this.resources.has(props.WorkspaceResourceId.toLowerCase())) {
          return armError(res, 400, 'BadRequest', `The Log Analytics workspace '${props.WorkspaceResourceId}' does not exist.`)
        }
        resource.properties = {
          ...resource.properties,
          AppId: existing?.properties.AppId ?? randomUUID(),
          InstrumentationKey: existing?.properties.InstrumentationKey ?? randomUUID(),
          provisioningState: 'Succeeded',
        }
        resource.properties.ConnectionString = `InstrumentationKey=${resource.properties.InstrumentationKey};IngestionEndpoint=https://${b.location}-0.in.applicationinsights.azure.com/;ApplicationId=${resource.properties.AppId}`
        return this.asyncCreate(res, key, resource, 201)
      }
      case 'microsoft.documentdb/databaseaccounts': {
        resource.properties._key1 ??= this.opts.cosmos?.key ?? randomBytes(64).toString('base64')
        resource.properties._key2 ??= randomBytes(64).toString('base64')
        this.issuedSecrets.push(String(resource.properties._key1))
        resource.properties.documentEndpoint = this.opts.cosmos?.endpoint ?? `https://${name}.documents.azure.com:443/`
        resource.properties.provisioningState = 'Succeeded'
        return this.asyncCreate(res, key, resource, 201)
      }
      default:
        return armError(res, 400, 'NoRegisteredProviderFound', `No registered resource provider found for type '${type}' in the fake.`)
    }
  }

  /** 201/202 + Azure-AsyncOperation; the resource exists once the operation succeeded (the SDK then GETs it). */
  private asyncCreate(res: ServerResponse, key: string, resource: Resource, status: 201 | 202, after?: () => void): void {
    const op = this.newOperation(() => {
      this.resources.set(key, resource)
      after?.()
    })
    const headers = { 'azure-asyncoperation': `https://${this.origin}/mock/operations/${op}`, 'retry-after': '0' }
    if (status === 201) {
      return json(res, 201, { ...(this.resourceBody(resource) as object), properties: { ...this.publicProps(resource), provisioningState: 'Creating' } }, headers)
    }
    json(res, 202, undefined, headers)
  }

  private publicProps(r: Resource): Record<string, unknown> {
    return Object.fromEntries(Object.entries(r.properties).filter(([k]) => !k.startsWith('_')))
  }

  // -------------------------------------------------------------------------
  // Application Insights

  private query(res: ServerResponse, path: string, body: unknown): void {
    const appId = decodeURIComponent(path.split('/')[3] ?? '')
    const component = [...this.resources.values()].find((r) => r.type.toLowerCase() === 'microsoft.insights/components' && r.properties.AppId === appId)
    if (!component) return json(res, 404, { error: { code: 'PathNotFoundError', message: `The requested path does not exist (app ${appId})` } })
    const text = String((body as { query?: string } | undefined)?.query ?? '')
    if (!/^requests\b/.test(text)) return json(res, 400, { error: { code: 'BadArgumentError', message: 'The fake knows the requests table only' } })
    const ids = new Set([...(/in \(([^)]*)\)/.exec(text)?.[1] ?? '').matchAll(/"([^"]+)"/g)].map((m) => m[1]!))
    // The component belongs to the app whose settings carry its connection string.
    const apps = [...this.apps.values()].filter((a) => a.settings.APPLICATIONINSIGHTS_CONNECTION_STRING === component.properties.ConnectionString).map((a) => a.name)
    const now = Date.now()
    const rows = this.rows
      .filter((r) => apps.includes(r.appName) && ids.has(r.invocationId) && r.visibleAt <= now)
      .map((r) => [r.invocationId, r.durationMs, new Date(r.timestamp).toISOString(), r.success, r.resultCode])
    json(res, 200, {
      tables: [
        {
          name: 'PrimaryResult',
          columns: [
            { name: 'invocationId', type: 'string' },
            { name: 'duration', type: 'real' },
            { name: 'timestamp', type: 'datetime' },
            { name: 'success', type: 'bool' },
            { name: 'resultCode', type: 'string' },
          ],
          rows,
        },
      ],
    })
  }

  /** Azure's answer to a Flex app with a setting it refuses, or undefined. */
  private flexRefusedSetting(settings: Record<string, string>): string | undefined {
    const bad = FLEX_REFUSED_SETTINGS.find((k) => k in settings)
    return bad ? `The following app setting (Site.SiteConfig.AppSettings.${bad}) for Flex Consumption sites is invalid. Please remove or rename it before retrying.` : undefined
  }

  // -------------------------------------------------------------------------
  // the deployment endpoint of Flex apps (One Deploy)

  private async scm(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const m = /^\/scm\/([^/]+)\/api\/(publish|deployments\/([^/]+))$/.exec(url.pathname)
    const app = m ? this.apps.get(decodeURIComponent(m[1]!).toLowerCase()) : undefined
    if (!m || !app) {
      await readBody(req)
      return json(res, 404, { Message: 'Not found' })
    }
    if (m[2]!.startsWith('deployments/')) {
      const id = m[3] === 'latest' ? [...this.deployments.entries()].filter(([, d]) => d.app === app.name).pop()?.[0] : m[3]
      const d = id ? this.deployments.get(id) : undefined
      if (!d) return json(res, 404, { Message: 'No deployment found' })
      return json(res, 200, { id, status: d.status, status_text: d.statusText, complete: d.status === 3 || d.status === 4 })
    }
    if (req.method !== 'POST') return json(res, 405, { Message: 'POST a zip to /api/publish' })
    if (app.plan !== 'FC1' || !app.flex) {
      await readBody(req)
      return json(res, 400, { Message: `${app.name} is not a Flex Consumption app: /api/publish (One Deploy) with a blob container is Flex only here` })
    }
    const zip = await readBody(req)
    if (zip.length > this.opts.maxPackageBytes) {
      return json(res, 413, { Message: `The package is ${zip.length} bytes; the limit is ${this.opts.maxPackageBytes} bytes.` })
    }
    const id = randomUUID()
    // The platform keeps the package in the app's deployment container.
    const connection = app.settings[app.flex.connectionSetting]
    if (!connection) return json(res, 400, { Message: `The app setting ${app.flex.connectionSetting} named by functionAppConfig is missing.` })
    const container = BlobServiceClient.fromConnectionString(connection).getContainerClient(app.flex.container)
    if (!(await container.exists())) return json(res, 400, { Message: `BlobUploadFailedException: the deployment container ${app.flex.container} does not exist.` })
    await container.getBlockBlobClient('released-package.zip').uploadData(zip)
    const dest = await mkdtemp(join(this.opts.workDir, 'flex-'))
    try {
      await extractZip(zip, dest)
    } catch (err) {
      this.deployments.set(id, { app: app.name, status: 3, statusText: `the package is not a valid zip: ${(err as Error).message}`, sizeBytes: zip.length })
      return json(res, 202, undefined, { location: `http://${this.origin}/scm/${app.name}/api/deployments/${id}` })
    }
    app.publishedDir = dest
    app.synced = true
    // New code: running instances are replaced.
    this.restart(app)
    this.deployments.set(id, { app: app.name, status: 4, statusText: 'Deployment successful.', sizeBytes: zip.length })
    // The deployment's status URL on the deployment host itself (served over http here, as the endpoint is configured).
    json(res, 202, undefined, { location: `http://${this.origin}/scm/${app.name}/api/deployments/${id}` })
  }

  // -------------------------------------------------------------------------
  // the function host

  private restart(app: App): void {
    app.settingsVersion++
    this.stopInstance(app)
  }

  private stopInstance(app: App): void {
    const inst = app.instance
    app.instance = undefined
    if (!inst) return
    if (inst.worker && !inst.worker.dead) inst.worker.proc.kill('SIGKILL')
    void rm(inst.tmpDir, { recursive: true, force: true }).catch(() => {})
  }

  /** The unpacked package of a WEBSITE_RUN_FROM_PACKAGE URL (downloaded once per URL). */
  private packageDir(url: string): Promise<string> {
    let dir = this.packageDirs.get(url)
    if (!dir) {
      dir = (async () => {
        const res = await fetch(url)
        if (res.status !== 200) throw new Error(`WEBSITE_RUN_FROM_PACKAGE download answered HTTP ${res.status}`)
        const zip = Buffer.from(await res.arrayBuffer())
        const dest = await mkdtemp(join(this.opts.workDir, 'wwwroot-'))
        await extractZip(zip, dest)
        return dest
      })()
      dir.catch(() => this.packageDirs.delete(url))
      this.packageDirs.set(url, dir)
    }
    return dir
  }

  private async startWorker(app: App, inst: Instance, functionName: string): Promise<Worker> {
    const fnDir = join(inst.codeDir, functionName)
    const fnJson = JSON.parse(await readFile(join(fnDir, 'function.json'), 'utf8')) as { scriptFile?: string; entryPoint?: string }
    const runtime = app.flex?.runtime ?? app.settings.FUNCTIONS_WORKER_RUNTIME
    const python = runtime === 'python'
    const script = fnJson.scriptFile ?? (python ? '__init__.py' : 'index.js')
    const [cmd, args] = python
      ? [this.opts.python, ['-u', join(here, 'host', 'python_worker.py'), inst.codeDir, functionName, script, fnJson.entryPoint ?? '']]
      : [this.opts.node, [join(here, 'host', 'node-worker.cjs'), fnDir, script, fnJson.entryPoint ?? '']]
    // Only the app settings and what the platform sets: the test's own environment stays out.
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      LANG: 'C.UTF-8',
      HOME: inst.tmpDir,
      TMPDIR: inst.tmpDir,
      WEBSITE_SITE_NAME: app.name,
      WEBSITE_INSTANCE_ID: inst.id,
      CONTAINER_NAME: `${app.name}-${inst.id.slice(0, 8)}`,
      FUNCTIONS_WORKER_RUNTIME: runtime ?? '',
      ...(python ? { PYTHONDONTWRITEBYTECODE: '1' } : {}),
      ...app.settings,
    }
    const proc = spawn(cmd, args, { cwd: inst.codeDir, env, stdio: ['pipe', 'pipe', 'pipe', 'pipe'] })
    const worker: Worker = { proc, ready: Promise.resolve(), pending: new Map(), dead: false }
    let output = ''
    const keep = (c: Buffer) => {
      output = (output + c.toString('utf8')).slice(-20_000)
    }
    proc.stdout!.on('data', keep)
    proc.stderr!.on('data', keep)
    let onReady!: () => void
    let onFail!: (e: Error) => void
    worker.ready = new Promise<void>((res, rej) => {
      onReady = res
      onFail = rej
    })
    const lines = createInterface({ input: proc.stdio[3] as NodeJS.ReadableStream })
    lines.on('line', (line) => {
      const msg = JSON.parse(line) as WorkerMessage
      if (msg.type === 'ready') onReady()
      else if (msg.type === 'init-error') onFail(new Error(`worker init failed: ${msg.message}`))
      else if (msg.type === 'response' || msg.type === 'error') {
        worker.pending.get(msg.id)?.(msg)
        worker.pending.delete(msg.id)
      }
    })
    proc.on('exit', (code, signal) => {
      worker.dead = true
      onFail(new Error(`worker exited (${code ?? signal}) before it was ready:\n${output}`))
      for (const [, cb] of worker.pending) cb({ type: 'exit' })
      worker.pending.clear()
    })
    return worker
  }

  private async serveFunction(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const body = await readBody(req)
    const m = /^\/sites\/([^/]+)\/api\/([^/?]+)$/.exec(url.pathname)
    const app = m ? this.apps.get(decodeURIComponent(m[1]!).toLowerCase()) : undefined
    if (!m || !app) return json(res, 404, undefined)
    const functionName = decodeURIComponent(m[2]!)
    const packageUrl = app.settings.WEBSITE_RUN_FROM_PACKAGE
    // Run-from-URL apps know their functions only after a trigger sync; Flex apps after a publish.
    if (!app.synced || (app.plan === 'FC1' ? !app.publishedDir : !packageUrl)) return json(res, 404, undefined)

    let inst = app.instance
    if (!inst) {
      const codeDir = app.plan === 'FC1' ? app.publishedDir! : await this.packageDir(packageUrl!)
      inst = {
        id: randomBytes(16).toString('hex'),
        tmpDir: await mkdtemp(join(this.opts.workDir, 'instance-')),
        settingsVersion: app.settingsVersion,
        codeDir,
      }
      app.instance = inst
      app.instancesStarted++
    }
    const fnJsonPath = join(inst.codeDir, functionName, 'function.json')
    if (!existsSync(fnJsonPath)) return json(res, 404, { error: FUNCTION_NOT_FOUND })
    const fnJson = JSON.parse(await readFile(fnJsonPath, 'utf8')) as { bindings?: Array<{ type: string; methods?: string[]; authLevel?: string }> }
    const trigger = fnJson.bindings?.find((b) => b.type === 'httpTrigger')
    if (!trigger) return json(res, 404, { error: FUNCTION_NOT_FOUND })
    if (trigger.authLevel !== 'anonymous') return json(res, 401, undefined)
    if (trigger.methods && !trigger.methods.map((x) => x.toLowerCase()).includes((req.method ?? 'GET').toLowerCase())) return json(res, 404, undefined)

    if (!inst.worker || inst.worker.dead) inst.worker = await this.startWorker(app, inst, functionName)
    const worker = inst.worker
    try {
      await worker.ready
    } catch (err) {
      this.stopInstance(app)
      res.writeHead(500, { 'content-type': 'text/plain' })
      return void res.end(`Function host is not running: ${(err as Error).message}`)
    }

    const hostJson = JSON.parse(await readFile(join(inst.codeDir, 'host.json'), 'utf8').catch(() => '{}')) as { functionTimeout?: string }
    const timeoutMs = parseTimeout(app.settings.AzureFunctionsJobHost__functionTimeout) ?? parseTimeout(hostJson.functionTimeout) ?? 5 * 60_000
    const invocationId = randomUUID()
    const id = randomUUID()
    const headers: Record<string, string> = {}
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v
    const started = Date.now()
    const t0 = performance.now()
    const outcome = await new Promise<WorkerMessage | { type: 'timeout' }>((resolveOutcome) => {
      const timer = setTimeout(() => {
        worker.pending.delete(id)
        resolveOutcome({ type: 'timeout' })
      }, timeoutMs)
      worker.pending.set(id, (msg) => {
        clearTimeout(timer)
        resolveOutcome(msg)
      })
      worker.proc.stdin!.write(
        JSON.stringify({ id, invocationId, functionName, method: req.method, url: `${url.pathname}${url.search}`, headers, body: body.toString('base64') }) + '\n',
      )
    })
    const durationMs = performance.now() - t0
    const record = (status: number) => {
      // Probes are requests too, as far as the platform is concerned.
      this.rows.push({ appName: app.name, invocationId, timestamp: started, durationMs, success: status < 400, resultCode: String(status), visibleAt: Date.now() + this.opts.ingestionDelayMs })
    }
    if (outcome.type === 'timeout') {
      // "Timeout value of … exceeded by function …"; the host shuts down and a new instance serves next.
      record(500)
      if (app.instance === inst) this.stopInstance(app)
      res.writeHead(500)
      return void res.end()
    }
    if (outcome.type === 'response') {
      record(outcome.status)
      res.writeHead(outcome.status, outcome.headers)
      return void res.end(Buffer.from(outcome.body, 'base64'))
    }
    // An unhandled exception in the function (or the worker died): the host answers 500.
    record(500)
    if (outcome.type === 'exit' && app.instance === inst) this.stopInstance(app)
    res.writeHead(500)
    res.end()
  }
}

export async function startFakeAzure(options: FakeAzureOptions): Promise<FakeAzure> {
  return new FakeAzure(options).start()
}
