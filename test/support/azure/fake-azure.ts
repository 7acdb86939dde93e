/**
 * A fake Azure for tests, at the HTTP level, on one loopback server:
 *
 * - **Resource Manager**: subscriptions, resource groups (tag filter, delete
 *   as a long-running operation), storage accounts (202 + Location polling,
 *   listKeys), Consumption plans and function apps (201/202 +
 *   Azure-AsyncOperation polling, then the final GET), app settings (PUT and
 *   POST …/list), syncfunctiontriggers, generic resources (Application
 *   Insights components, Cosmos DB accounts + listKeys). Responses follow the
 *   shapes of the ARM REST reference; every call needs a bearer token.
 * - **The function host** (`/sites/<app>/api/<function>`): once the app's
 *   triggers were synced, an instance downloads the zip from
 *   WEBSITE_RUN_FROM_PACKAGE (a SAS URL into Azurite), unpacks it, reads
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
}

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
    }
    this.subscriptionId = this.opts.subscriptionId
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
    return this.resourceRoute(res, method, id, type, name, group, action, body)
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
        if (sku?.name !== 'Y1' || sku.tier !== 'Dynamic') return armError(res, 400, 'BadRequest', 'Only the Consumption (Y1/Dynamic) plan is faked.')
        resource.properties = { ...resource.properties, provisioningState: 'Succeeded', status: 'Ready', reserved: (b.properties as { reserved?: boolean })?.reserved }
        return this.asyncCreate(res, key, resource, 201)
      }
      case 'microsoft.web/sites': {
        const p = (b.properties ?? {}) as { serverFarmId?: string; siteConfig?: { appSettings?: Array<{ name: string; value: string }>; linuxFxVersion?: string } }
        if (!p.serverFarmId || !this.resources.has(p.serverFarmId.toLowerCase())) {
          return armError(res, 400, 'BadRequest', `The server farm '${p.serverFarmId}' does not exist.`)
        }
        if (!/^[a-z0-9][a-z0-9-]{0,58}[a-z0-9]$/.test(name)) return armError(res, 400, 'InvalidSiteName', `${name} is not a valid site name.`)
        const settings = Object.fromEntries((p.siteConfig?.appSettings ?? []).map((s) => [s.name, s.value]))
        resource.properties = {
          ...resource.properties,
          state: 'Running',
          defaultHostName: `${name}.azurewebsites.net`,
          provisioningState: 'Succeeded',
          siteConfig: { linuxFxVersion: p.siteConfig?.linuxFxVersion },
        }
        const appKey = name.toLowerCase()
        return this.asyncCreate(res, key, resource, 202, () => {
          const old = this.apps.get(appKey)
          if (old) this.stopInstance(old)
          this.apps.set(appKey, { id, name, resourceGroup: group, settings, settingsVersion: 0, synced: false, instancesStarted: 0 })
        })
      }
      case 'microsoft.insights/components': {
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
    const runtime = app.settings.FUNCTIONS_WORKER_RUNTIME
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
    // Run-from-URL apps know their functions only after a trigger sync.
    if (!app.synced || !packageUrl) return json(res, 404, undefined)

    let inst = app.instance
    if (!inst) {
      const codeDir = await this.packageDir(packageUrl)
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
