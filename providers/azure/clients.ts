/**
 * The control-plane clients of the Azure provider: Resource Manager
 * (resource groups, generic resources), Storage (accounts, keys) and App
 * Service (plans, function apps, app settings), plus `armRequest` for the
 * few ARM calls the SDKs in package.json do not cover (subscription check,
 * Cosmos DB keys, the Application Insights query API).
 *
 * Endpoint overrides: the ARM base URL may be any https URL, or plain http on
 * a loopback address (the tests' mock ARM server). The SDKs refuse to send a
 * bearer token over http, so for a loopback http endpoint the clients are
 * given the https form of the URL and a policy that runs after the token
 * policy turns it back into http; nothing but loopback is ever rewritten.
 */
import type { TokenCredential } from '@azure/identity'
import { ResourceManagementClient, type ResourceManagementClientOptionalParams } from '@azure/arm-resources'
import { StorageManagementClient, type StorageManagementClientOptionalParams } from '@azure/arm-storage'
import { WebSiteManagementClient, type WebSiteManagementClientOptionalParams } from '@azure/arm-appservice'
import { ProviderError, errorMessage } from '../../core/errors.ts'
import { DEFAULT_MANAGEMENT_ENDPOINT } from './config.ts'

export const MANAGEMENT_SCOPE = 'https://management.azure.com/.default'

/** The pieces of a pipeline policy the SDKs accept (structural, so no transitive package is imported). */
interface PolicyRequest {
  url: string
  allowInsecureConnection?: boolean
}
interface Policy {
  name: string
  sendRequest(request: PolicyRequest, next: (request: PolicyRequest) => Promise<unknown>): Promise<unknown>
}

function isLoopbackHttp(url: string): boolean {
  try {
    const u = new URL(url)
    return u.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname)
  } catch {
    return false
  }
}

/**
 * For a loopback http endpoint: the https URL the SDKs are configured with,
 * and the function that maps request URLs back. Identity otherwise.
 */
export function endpointTransport(endpoint: string): { sdkEndpoint: string; toWire: (url: string) => string } {
  if (!isLoopbackHttp(endpoint)) return { sdkEndpoint: endpoint, toWire: (url) => url }
  const httpOrigin = new URL(endpoint).origin
  const httpsOrigin = httpOrigin.replace(/^http:/, 'https:')
  return {
    sdkEndpoint: endpoint.replace(/^http:/, 'https:'),
    toWire: (url) => (url.startsWith(httpsOrigin) ? httpOrigin + url.slice(httpsOrigin.length) : url),
  }
}

function loopbackPolicy(toWire: (url: string) => string): Policy {
  return {
    name: 'sebsLoopbackHttpPolicy',
    async sendRequest(request, next) {
      const original = request.url
      const wire = toWire(original)
      if (wire === original) return next(request)
      const insecure = request.allowInsecureConnection
      // Plain http to a loopback address only (toWire rewrites nothing else).
      request.url = wire
      request.allowInsecureConnection = true
      try {
        return await next(request)
      } finally {
        // The response keeps a reference to this request; long-running-operation
        // pollers re-read its URL, which must be the https form the token policy accepts.
        request.url = original
        request.allowInsecureConnection = insecure
      }
    },
  }
}

/** The token scope for an ARM endpoint: its own for sovereign clouds, the public one otherwise. */
export function managementScope(endpoint: string): string {
  if (endpoint === DEFAULT_MANAGEMENT_ENDPOINT || isLoopbackHttp(endpoint)) return MANAGEMENT_SCOPE
  return `${endpoint.replace(/\/+$/, '')}/.default`
}

export interface AzureClients {
  subscriptionId: string
  credential: TokenCredential
  resources: ResourceManagementClient
  storage: StorageManagementClient
  web: WebSiteManagementClient
  /** ARM base URL as configured (http only for loopback). */
  management: string
  /** Token scope of that endpoint (also what the Flex deployment endpoint accepts). */
  managementScope: string
  /** An ARM call the SDKs do not cover; `path` starts with `/subscriptions/…` or is absolute. */
  arm<T = unknown>(method: string, path: string, options?: { body?: unknown; query?: Record<string, string> }): Promise<{ status: number; body: T }>
  /**
   * A bearer-authenticated request to another Azure API (Application Insights
   * query, a Flex app's deployment endpoint): JSON `body`, or `rawBody` sent
   * as `contentType`. The answer's Location header is returned as `location`.
   */
  request<T = unknown>(url: string, scope: string, init: RequestInit): Promise<{ status: number; body: T; location?: string }>
}

/** What `AzureClients.request` sends. */
export interface RequestInit {
  method: string
  body?: unknown
  rawBody?: Uint8Array
  contentType?: string
  signal?: AbortSignal
}

export interface AzureClientsConfig {
  subscriptionId: string
  credential: TokenCredential
  management: string
}

/** An ARM error response body: `{ error: { code, message } }`. */
export function armErrorText(body: unknown): string {
  const e = (body as { error?: { code?: string; message?: string } } | undefined)?.error
  if (e) return `${e.code ?? 'Error'}: ${e.message ?? ''}`.trim()
  return typeof body === 'string' ? body.slice(0, 300) : JSON.stringify(body ?? null).slice(0, 300)
}

export function createAzureClients(config: AzureClientsConfig): AzureClients {
  const { sdkEndpoint, toWire } = endpointTransport(config.management)
  const scope = managementScope(config.management)
  const additionalPolicies = sdkEndpoint === config.management ? [] : [{ policy: loopbackPolicy(toWire), position: 'perRetry' as const }]
  // The SDKs' own retry policies handle 429/5xx with Retry-After.
  const common = { endpoint: sdkEndpoint, additionalPolicies }
  const resources = new ResourceManagementClient(config.credential, config.subscriptionId, {
    ...common,
    credentialScopes: [scope],
  } as unknown as ResourceManagementClientOptionalParams)
  const storage = new StorageManagementClient(config.credential, config.subscriptionId, {
    ...common,
    credentials: { scopes: [scope] },
  } as unknown as StorageManagementClientOptionalParams)
  const web = new WebSiteManagementClient(config.credential, config.subscriptionId, {
    ...common,
    credentials: { scopes: [scope] },
  } as unknown as WebSiteManagementClientOptionalParams)

  const request = async <T>(url: string, tokenScope: string, init: RequestInit) => {
    const token = await config.credential.getToken(tokenScope)
    if (!token) throw new ProviderError('azure', 'CREDENTIALS_INVALID', `No access token for ${tokenScope}.`)
    const res = await fetch(url, {
      method: init.method,
      headers: {
        authorization: `Bearer ${token.token}`,
        accept: 'application/json',
        ...(init.rawBody !== undefined ? { 'content-type': init.contentType ?? 'application/octet-stream' } : init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: init.rawBody !== undefined ? (init.rawBody as unknown as Blob) : init.body !== undefined ? JSON.stringify(init.body) : undefined,
      signal: init.signal ?? AbortSignal.timeout(60_000),
    })
    const text = await res.text()
    let body: unknown = text
    try {
      body = text ? JSON.parse(text) : undefined
    } catch {
      // Not JSON: kept as text for the error message.
    }
    const location = res.headers.get('location') ?? undefined
    return { status: res.status, body: body as T, ...(location ? { location } : {}) }
  }

  return {
    subscriptionId: config.subscriptionId,
    credential: config.credential,
    resources,
    storage,
    web,
    management: config.management,
    managementScope: scope,
    async arm<T>(method: string, path: string, options: { body?: unknown; query?: Record<string, string> } = {}) {
      const base = config.management.replace(/\/+$/, '')
      const url = new URL(path.startsWith('http') ? path : `${base}${path}`)
      for (const [k, v] of Object.entries(options.query ?? {})) url.searchParams.set(k, v)
      try {
        return await request<T>(url.toString(), scope, { method, body: options.body })
      } catch (err) {
        if (err instanceof ProviderError) throw err
        throw new ProviderError('azure', 'DEPLOY_FAILED', `${method} ${url.pathname} failed: ${errorMessage(err)}`, { cause: err })
      }
    },
    request,
  }
}

/** HTTP status of an SDK error (RestError and the modular clients' errors both carry `statusCode`). */
export function statusOf(err: unknown): number | undefined {
  const e = err as { statusCode?: number; status?: number; response?: { status?: number } } | undefined
  return e?.statusCode ?? e?.response?.status ?? e?.status
}

export function isNotFound(err: unknown): boolean {
  return statusOf(err) === 404 || (err as { code?: string } | undefined)?.code === 'ResourceGroupNotFound' || (err as { code?: string } | undefined)?.code === 'ResourceNotFound'
}
