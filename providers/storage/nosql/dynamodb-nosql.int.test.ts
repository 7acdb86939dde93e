/**
 * The NoSQL side against a real dynalite on loopback: the harness creates
 * tables and inserts items; the function-side wrappers (nodejs/nosql.js with
 * the repo's @aws-sdk/client-dynamodb, python/nosql.py with boto3) read and
 * change them through the environment nosqlEnv() gives functions.
 */
import { createRequire } from 'node:module'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { DescribeTableCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { NoSqlConnection, NoSqlStorage } from '../../types.ts'
import { startDynalite, type DynaliteServer } from './dynalite-server.ts'
import { createDynamoNoSql, nosqlEnv } from './dynamodb-nosql.ts'
import { ensureBoto3, execFileText } from '../../../test/support/nosql.ts'
import { DYNAMODB_FUNCTION_NOSQL } from './wrappers/index.ts'

const CREDS = { accessKey: 'sebs-test', secretKey: 'sebs-test-secret' }

let server: DynaliteServer
let connection: NoSqlConnection
let store: NoSqlStorage
let sdk: DynamoDBClient

beforeAll(async () => {
  server = await startDynalite()
  connection = { kind: 'dynamodb', endpoint: server.endpoint, region: 'us-east-1', ...CREDS, tables: {} }
  store = createDynamoNoSql(connection)
  sdk = new DynamoDBClient({
    endpoint: server.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: CREDS.accessKey, secretAccessKey: CREDS.secretKey },
  })
})

afterAll(async () => {
  sdk?.destroy()
  await store?.close()
  await server?.close()
})

describe('startDynalite', () => {
  it('listens on 127.0.0.1 with a random port', () => {
    expect(server.endpoint).toBe(`http://127.0.0.1:${server.port}`)
    expect(server.port).toBeGreaterThan(0)
  })

  it('keeps tables in a directory across restarts when asked to', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sebs-dynalite-'))
    try {
      const first = await startDynalite({ directory: dir })
      const conn: NoSqlConnection = { kind: 'dynamodb', endpoint: first.endpoint, region: 'us-east-1', ...CREDS, tables: {} }
      const s1 = createDynamoNoSql(conn)
      await s1.createTable('999.persist', 'kv', 'k')
      await s1.insert('kv', ['k', 'a'], undefined, { v: 1 })
      await s1.close()
      await first.close()
      await first.close() // idempotent

      const second = await startDynalite({ directory: dir })
      const client = new DynamoDBClient({
        endpoint: second.endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: CREDS.accessKey, secretAccessKey: CREDS.secretKey },
      })
      const got = await client.send(new GetItemCommand({ TableName: 'sebs-999.persist-kv', Key: { k: { S: 'a' } } }))
      expect(got.Item).toEqual({ k: { S: 'a' }, v: { N: '1' } })
      client.destroy()
      await second.close()
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('createDynamoNoSql on dynalite', () => {
  it('creates an ACTIVE pay-per-request table with the benchmark keys and records its name', async () => {
    const name = await store.createTable('130.crud-api', 'shopping_cart', 'cart_id', 'product_id')
    expect(name).toBe('sebs-130.crud-api-shopping_cart')
    expect(connection.tables).toEqual({ shopping_cart: name })
    const { Table } = await sdk.send(new DescribeTableCommand({ TableName: name }))
    expect(Table?.TableStatus).toBe('ACTIVE')
    expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST')
    expect(Table?.KeySchema).toEqual([
      { AttributeName: 'cart_id', KeyType: 'HASH' },
      { AttributeName: 'product_id', KeyType: 'RANGE' },
    ])
  })

  it('reuses an existing table', async () => {
    await expect(store.createTable('130.crud-api', 'shopping_cart', 'cart_id', 'product_id')).resolves.toBe('sebs-130.crud-api-shopping_cart')
  })

  it('refuses an existing table whose keys differ, saying what to do', async () => {
    await expect(store.createTable('130.crud-api', 'shopping_cart', 'cart_id', 'sku')).rejects.toMatchObject({
      code: 'STORAGE_FAILED',
      message: expect.stringMatching(/exists with keys \(cart_id, product_id\).*needs \(cart_id, sku\).*delete the table/),
    })
  })

  it('inserts items by logical or physical table name, replacing same-key items', async () => {
    await store.insert('shopping_cart', ['cart_id', 'c1'], ['product_id', 'p1'], { name: 'A', price: 42, quantity: 2, tags: ['x'] })
    await store.insert('sebs-130.crud-api-shopping_cart', ['cart_id', 'c1'], ['product_id', 'p2'], { name: 'B', price: 1.5, quantity: 1 })
    await store.insert('shopping_cart', ['cart_id', 'c1'], ['product_id', 'p1'], { name: 'A', price: 42, quantity: 3 })
    const got = await sdk.send(
      new GetItemCommand({ TableName: 'sebs-130.crud-api-shopping_cart', Key: { cart_id: { S: 'c1' }, product_id: { S: 'p1' } } }),
    )
    expect(got.Item).toEqual({ cart_id: { S: 'c1' }, product_id: { S: 'p1' }, name: { S: 'A' }, price: { N: '42' }, quantity: { N: '3' } })
  })

  it('refuses an unknown table, naming the known ones', async () => {
    await expect(store.insert('nope', ['a', 'b'], undefined, {})).rejects.toMatchObject({
      code: 'STORAGE_FAILED',
      message: expect.stringMatching(/'nope' was not created.*shopping_cart/),
    })
  })

  it('fails with a clear error when the store is unreachable', async () => {
    // A port nobody listens on: the SDK fails to connect and createTable reports it.
    const dead = createDynamoNoSql({ kind: 'dynamodb', endpoint: 'http://127.0.0.1:9', region: 'us-east-1', ...CREDS, tables: {} })
    await expect(dead.createTable('1.x', 'y', 'k')).rejects.toMatchObject({ code: 'STORAGE_FAILED', message: expect.stringMatching(/127\.0\.0\.1:9/) })
    await dead.close()
  })
})

/** The operations both wrappers run, and what they must see. */
const EXPECTED = {
  get: { cart_id: 'c2', product_id: 'p1', name: 'Gothic Game', price: 42, quantity: 2, ratio: 0.25 },
  missing: null,
  afterUpdate: { cart_id: 'c2', product_id: 'p1', name: 'Gothic Game', price: 40, quantity: 5, ratio: 0.25 },
  query: ['p1', 'p2', 'p3'],
  afterDelete: ['p1', 'p3'],
}

describe('function-side wrappers against dynalite', () => {
  beforeAll(async () => {
    await store.createTable('130.crud-api', 'shopping_cart', 'cart_id', 'product_id')
  })

  it('nodejs/nosql.js: insert, get, update, query (all pages), delete', async () => {
    const env = nosqlEnv(connection)
    const saved = { ...process.env }
    Object.assign(process.env, env)
    try {
      const require = createRequire(import.meta.url)
      const mod = require(DYNAMODB_FUNCTION_NOSQL.nodejs.file) as {
        nosql: { new (): NodeNoSql; get_instance(): NodeNoSql }
      }
      const db = mod.nosql.get_instance()
      expect(mod.nosql.get_instance()).toBe(db)
      const pk: [string, string] = ['cart_id', 'c2']
      await db.insert('shopping_cart', pk, ['product_id', 'p2'], { name: 'Gothic 2', price: 142, quantity: 3 })
      await db.insert('shopping_cart', pk, ['product_id', 'p1'], { name: 'Gothic Game', price: 42, quantity: 2, ratio: 0.25 })
      await db.insert('shopping_cart', pk, ['product_id', 'p3'], { name: 'Big', price: 1, quantity: 1, blob: 'x'.repeat(300_000) })
      // Five 300 kB items exceed one 1 MB query page (dynalite stops a page once it holds 1 MB): query must follow LastEvaluatedKey.
      for (let i = 0; i < 5; i++) await db.insert('shopping_cart', ['cart_id', 'big'], ['product_id', `b${i}`], { blob: 'y'.repeat(300_000) })
      expect(await db.get('shopping_cart', pk, ['product_id', 'p1'])).toEqual(EXPECTED.get)
      expect((await db.get('shopping_cart', pk, ['product_id', 'zz'])) ?? null).toBe(EXPECTED.missing)
      await db.update('shopping_cart', pk, ['product_id', 'p1'], { price: 40, quantity: 5 })
      expect(await db.get('shopping_cart', pk, ['product_id', 'p1'])).toEqual(EXPECTED.afterUpdate)
      expect((await db.query('shopping_cart', pk, 'product_id')).map((i) => i.product_id)).toEqual(EXPECTED.query)
      expect(await db.query('shopping_cart', ['cart_id', 'big'], 'product_id')).toHaveLength(5)
      await db.delete('shopping_cart', pk, ['product_id', 'p2'])
      expect((await db.query('shopping_cart', pk, 'product_id')).map((i) => i.product_id)).toEqual(EXPECTED.afterDelete)
      await expect(db.get('unknown', pk, ['product_id', 'p1'])).rejects.toThrow(/NOSQL_STORAGE_TABLE_unknown/)
      db.client.destroy()
    } finally {
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key]
      Object.assign(process.env, saved)
    }
  })

  it('python/nosql.py (boto3): the same round trip, numbers as int/float', async () => {
    const boto3 = await ensureBoto3()
    const script = `
import json
from nosql import nosql
db = nosql.get_instance()
assert nosql.get_instance() is db
pk = ("cart_id", "c3")
db.insert("shopping_cart", pk, ("product_id", "p2"), {"name": "Gothic 2", "price": 142, "quantity": 3})
db.insert("shopping_cart", pk, ("product_id", "p1"), {"name": "Gothic Game", "price": 42, "quantity": 2, "ratio": 0.25})
db.insert("shopping_cart", pk, ("product_id", "p3"), {"name": "Big", "price": 1, "quantity": 1})
for i in range(5):
    db.insert("shopping_cart", ("cart_id", "big3"), ("product_id", "b%d" % i), {"blob": "y" * 300000})
out = {"get": db.get("shopping_cart", pk, ("product_id", "p1")), "missing": db.get("shopping_cart", pk, ("product_id", "zz"))}
db.update("shopping_cart", pk, ("product_id", "p1"), {"price": 40, "quantity": 5})
out["afterUpdate"] = db.get("shopping_cart", pk, ("product_id", "p1"))
out["types"] = [type(out["afterUpdate"]["price"]).__name__, type(out["afterUpdate"]["ratio"]).__name__]
out["query"] = [i["product_id"] for i in db.query("shopping_cart", pk, "product_id")]
out["bigPages"] = len(db.query("shopping_cart", ("cart_id", "big3"), "product_id"))
db.delete("shopping_cart", pk, ("product_id", "p2"))
out["afterDelete"] = [i["product_id"] for i in db.query("shopping_cart", pk, "product_id")]
try:
    db.get("unknown", pk, ("product_id", "p1"))
except RuntimeError as e:
    out["unknown"] = str(e)
print(json.dumps(out))
`
    const { stdout } = await execFileText('python3', ['-c', script], {
      env: {
        ...process.env,
        ...nosqlEnv(connection),
        PYTHONPATH: [dirname(DYNAMODB_FUNCTION_NOSQL.python.file), boto3].join(':'),
        PYTHONDONTWRITEBYTECODE: '1',
        // No shared config or credentials of the machine may leak in.
        AWS_CONFIG_FILE: '/dev/null',
        AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      },
      timeoutMs: 120_000,
    })
    const out = JSON.parse(stdout) as Record<string, unknown>
    expect(out.get).toEqual({ ...EXPECTED.get, cart_id: 'c3' })
    expect(out.missing).toBe(EXPECTED.missing)
    expect(out.afterUpdate).toEqual({ ...EXPECTED.afterUpdate, cart_id: 'c3' })
    expect(out.types).toEqual(['int', 'float'])
    expect(out.query).toEqual(EXPECTED.query)
    expect(out.bigPages).toBe(5)
    expect(out.afterDelete).toEqual(EXPECTED.afterDelete)
    expect(out.unknown).toMatch(/NOSQL_STORAGE_TABLE_unknown/)
  }, 600_000)
})

interface NodeNoSql {
  client: { destroy(): void }
  insert(table: string, pk: [string, string], sk: [string, string], data: Record<string, unknown>): Promise<void>
  get(table: string, pk: [string, string], sk: [string, string]): Promise<Record<string, unknown> | undefined>
  update(table: string, pk: [string, string], sk: [string, string], updates: Record<string, unknown>): Promise<void>
  query(table: string, pk: [string, string], skName: string): Promise<Array<Record<string, unknown>>>
  delete(table: string, pk: [string, string], sk: [string, string]): Promise<void>
}
