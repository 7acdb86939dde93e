/**
 * A fake Cosmos DB (NoSQL API) at the HTTP level, for tests: the subset of
 * the REST API that @azure/cosmos (and the python azure-cosmos SDK) use for
 * SeBS's NoSQL wrapper — the account read, databases and containers
 * (create / read), documents (create, upsert, read, replace, delete) and
 * single-partition queries — with responses shaped like the REST reference
 * (`_rid`, `_self`, `_etag`, `_ts`; `{ Documents, _count }` for queries;
 * 404 `NotFound` / 409 `Conflict` bodies).
 *
 * Every request must carry a master-key authorization header
 * (`type=master&ver=1.0&sig=…`) signed with the account key; the fake
 * recomputes the HMAC, so a wrong key is a 401 as on Azure.
 */
import { createHmac, randomBytes } from 'node:crypto'
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

interface Container {
  id: string
  partitionKeyPath: string
  docs: Map<string, Record<string, unknown>>
}

export interface CosmosCall {
  method: string
  path: string
  headers: Record<string, string | undefined>
  body?: unknown
}

const SYSTEM = ['_rid', '_self', '_etag', '_ts', '_attachments']

function send(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? '' : JSON.stringify(body)
  res.writeHead(status, {
    ...(text ? { 'content-type': 'application/json' } : {}),
    'x-ms-activity-id': randomBytes(16).toString('hex'),
    'x-ms-request-charge': '1',
    'x-ms-session-token': '0:1#1',
    ...headers,
  })
  res.end(text)
}

function error(res: ServerResponse, status: number, code: string, message: string): void {
  send(res, status, { code, message })
}

export class FakeCosmos {
  readonly key = randomBytes(64).toString('base64')
  readonly calls: CosmosCall[] = []
  readonly databases = new Map<string, Map<string, Container>>()
  private server!: Server
  endpoint = ''

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err) => {
        if (!res.headersSent) error(res, 500, 'InternalServerError', String(err?.stack ?? err))
        else res.destroy()
      })
    })
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r))
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`
    return this
  }

  async close(): Promise<void> {
    await new Promise<void>((r) => this.server.close(() => r()))
    this.server.closeAllConnections?.()
  }

  /** Documents of a container, as stored (with system fields). */
  docs(database: string, container: string): Array<Record<string, unknown>> {
    return [...(this.databases.get(database)?.get(container)?.docs.values() ?? [])]
  }

  /** Cosmos's master-key signature: HMAC-SHA256 over verb, resource type, resource link and date. */
  private authorized(req: IncomingMessage, resourceType: string, resourceLink: string): boolean {
    const auth = decodeURIComponent(String(req.headers.authorization ?? ''))
    const m = /^type=master&ver=1\.0&sig=(.+)$/.exec(auth)
    if (!m) return false
    const date = String(req.headers['x-ms-date'] ?? '').toLowerCase()
    const text = `${(req.method ?? '').toLowerCase()}\n${resourceType.toLowerCase()}\n${resourceLink}\n${date}\n\n`
    const sig = createHmac('sha256', Buffer.from(this.key, 'base64')).update(text).digest('base64')
    return sig === m[1]
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const raw = Buffer.concat(chunks).toString('utf8')
    const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : undefined
    const url = new URL(req.url ?? '/', this.endpoint)
    const seg = url.pathname.split('/').filter(Boolean).map(decodeURIComponent)
    const method = req.method ?? 'GET'
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : v]))
    this.calls.push({ method, path: url.pathname, headers, body })

    // Resource type and link as the signature defines them: for a feed (POST /dbs/x/colls) the link is the parent.
    let resourceType = ''
    let resourceLink = ''
    if (seg.length > 0) {
      const odd = seg.length % 2 === 1
      resourceType = odd ? seg[seg.length - 1]! : seg[seg.length - 2]!
      resourceLink = (odd ? seg.slice(0, -1) : seg).join('/')
    }
    if (!this.authorized(req, resourceType, resourceLink)) return error(res, 401, 'Unauthorized', 'The input authorization token can\'t serve the request.')

    if (seg.length === 0 && method === 'GET') {
      return send(res, 200, {
        _self: '',
        id: 'fake',
        _rid: 'fake.documents.azure.com',
        media: '//media/',
        addresses: '//addresses/',
        _dbs: '//dbs/',
        writableLocations: [{ name: 'West Europe', databaseAccountEndpoint: this.endpoint }],
        readableLocations: [{ name: 'West Europe', databaseAccountEndpoint: this.endpoint }],
        enableMultipleWriteLocations: false,
        userReplicationPolicy: { asyncReplication: false, minReplicaSetSize: 1, maxReplicasetSize: 4 },
        userConsistencyPolicy: { defaultConsistencyLevel: 'Session' },
        systemReplicationPolicy: { minReplicaSetSize: 1, maxReplicasetSize: 4 },
        readPolicy: { primaryReadCoefficient: 1, secondaryReadCoefficient: 1 },
        queryEngineConfiguration: JSON.stringify({ maxSqlQueryInputLength: 262144, maxJoinsPerSqlQuery: 5, queryRanges: [] }),
      })
    }
    if (seg[0] !== 'dbs') return error(res, 404, 'NotFound', `no route ${method} ${url.pathname}`)

    // /dbs
    if (seg.length === 1) {
      if (method !== 'POST') return error(res, 405, 'MethodNotAllowed', method)
      const id = String(body?.id ?? '')
      if (this.databases.has(id)) return error(res, 409, 'Conflict', 'Entity with the specified id already exists in the system.')
      this.databases.set(id, new Map())
      return send(res, 201, this.system({ id }, `dbs/${id}`))
    }
    const db = this.databases.get(seg[1]!)
    if (seg.length === 2) {
      if (method !== 'GET') return error(res, 405, 'MethodNotAllowed', method)
      if (!db) return error(res, 404, 'NotFound', 'Resource Not Found')
      return send(res, 200, this.system({ id: seg[1] }, `dbs/${seg[1]}`))
    }
    if (!db) return error(res, 404, 'NotFound', 'Resource Not Found')
    if (seg[2] !== 'colls') return error(res, 404, 'NotFound', `no route ${method} ${url.pathname}`)
    if (seg.length === 3) {
      if (method !== 'POST') return error(res, 405, 'MethodNotAllowed', method)
      const id = String(body?.id ?? '')
      if (db.has(id)) return error(res, 409, 'Conflict', 'Entity with the specified id already exists in the system.')
      const paths = ((body?.partitionKey as { paths?: string[] } | undefined)?.paths ?? []) as string[]
      if (paths.length !== 1) return error(res, 400, 'BadRequest', 'A container needs exactly one partition key path here.')
      db.set(id, { id, partitionKeyPath: paths[0]!, docs: new Map() })
      return send(res, 201, this.containerBody(seg[1]!, db.get(id)!))
    }
    const coll = db.get(seg[3]!)
    if (!coll) return error(res, 404, 'NotFound', 'Resource Not Found')
    if (seg.length === 4) {
      if (method !== 'GET') return error(res, 405, 'MethodNotAllowed', method)
      return send(res, 200, this.containerBody(seg[1]!, coll))
    }
    if (seg[4] === 'pkranges' && seg.length === 5) {
      return send(res, 200, {
        _rid: 'x',
        PartitionKeyRanges: [{ id: '0', _rid: 'x', minInclusive: '', maxExclusive: 'FF', ridPrefix: 0, throughputFraction: 1, status: 'online', parents: [] }],
        _count: 1,
      })
    }
    if (seg[4] !== 'docs') return error(res, 404, 'NotFound', `no route ${method} ${url.pathname}`)

    const pkHeader = req.headers['x-ms-documentdb-partitionkey']
    const pk = pkHeader ? (JSON.parse(String(pkHeader)) as unknown[])[0] : undefined
    const field = coll.partitionKeyPath.replace(/^\//, '')
    const docKey = (pkValue: unknown, id: string) => `${JSON.stringify(pkValue)}\u0000${id}`

    if (seg.length === 5) {
      if (method !== 'POST') return error(res, 405, 'MethodNotAllowed', method)
      if (String(req.headers['x-ms-documentdb-isquery'] ?? '').toLowerCase() === 'true' || /query\+json/.test(String(req.headers['content-type']))) {
        const text = String(body?.query ?? '')
        if (String(req.headers['x-ms-cosmos-is-query-plan-request'] ?? '').toLowerCase() === 'true') {
          return error(res, 400, 'BadRequest', 'The fake answers single-partition queries only (no query plans).')
        }
        if (!/^\s*SELECT \* FROM c\s*$/i.test(text)) return error(res, 400, 'BadRequest', `The fake knows 'SELECT * FROM c' only, got: ${text}`)
        if (pk === undefined) return error(res, 400, 'BadRequest', 'Cross partition query is required but disabled.')
        const docs = [...coll.docs.values()].filter((d) => JSON.stringify(d[field]) === JSON.stringify(pk))
        return send(res, 200, { _rid: 'x', Documents: docs, _count: docs.length }, { 'x-ms-item-count': String(docs.length) })
      }
      const doc = body ?? {}
      if (typeof doc.id !== 'string' || !doc.id) return error(res, 400, 'BadRequest', "The input content is invalid because the required properties - 'id; ' - are missing")
      if (pk === undefined || JSON.stringify(doc[field]) !== JSON.stringify(pk)) {
        return error(res, 400, 'BadRequest', 'PartitionKey extracted from document doesn\'t match the one specified in the header.')
      }
      const key = docKey(pk, doc.id)
      const upsert = String(req.headers['x-ms-documentdb-is-upsert'] ?? '').toLowerCase() === 'true'
      const existed = coll.docs.has(key)
      if (existed && !upsert) return error(res, 409, 'Conflict', 'Entity with the specified id already exists in the system.')
      const stored = this.system(Object.fromEntries(Object.entries(doc).filter(([k]) => !SYSTEM.includes(k))), `dbs/x/colls/${coll.id}/docs/${doc.id}`)
      coll.docs.set(key, stored)
      return send(res, existed ? 200 : 201, stored)
    }
    const id = seg[5]!
    const key = docKey(pk, id)
    const existing = coll.docs.get(key)
    if (method === 'GET') {
      if (!existing) return error(res, 404, 'NotFound', 'Entity with the specified id does not exist in the system.')
      return send(res, 200, existing)
    }
    if (method === 'DELETE') {
      if (!existing) return error(res, 404, 'NotFound', 'Entity with the specified id does not exist in the system.')
      coll.docs.delete(key)
      return send(res, 204)
    }
    if (method === 'PUT') {
      if (!existing) return error(res, 404, 'NotFound', 'Entity with the specified id does not exist in the system.')
      const stored = this.system({ ...(body ?? {}) }, `dbs/x/colls/${coll.id}/docs/${id}`)
      coll.docs.set(key, stored)
      return send(res, 200, stored)
    }
    error(res, 405, 'MethodNotAllowed', method)
  }

  private system(doc: Record<string, unknown>, self: string): Record<string, unknown> {
    return { ...doc, _rid: randomBytes(6).toString('base64'), _self: self, _etag: `"${randomBytes(8).toString('hex')}"`, _attachments: 'attachments/', _ts: Math.floor(Date.now() / 1000) }
  }

  private containerBody(db: string, c: Container): Record<string, unknown> {
    return {
      ...this.system({ id: c.id }, `dbs/${db}/colls/${c.id}`),
      partitionKey: { paths: [c.partitionKeyPath], kind: 'Hash', version: 2 },
      indexingPolicy: { indexingMode: 'consistent', automatic: true, includedPaths: [{ path: '/*' }], excludedPaths: [] },
    }
  }
}

export async function startFakeCosmos(): Promise<FakeCosmos> {
  return new FakeCosmos().start()
}
