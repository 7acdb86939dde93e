/**
 * Cosmos DB NoSQL storage against the fake Cosmos REST server
 * (testing/fake-cosmos.ts, no emulator runs here): the harness-side
 * NoSqlStorage and the function-side nosql.js (SeBS's NoSQL API, loaded as
 * CommonJS with @azure/cosmos from the repository's node_modules), checked
 * against what lands in the fake's containers (SeBS's mapping: secondary key
 * → `id`, primary key → partition key).
 */
import { createRequire } from 'node:module'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCosmosNoSql } from './cosmos-nosql.ts'
import { COSMOS_DATABASE } from './naming.ts'
import { AZURE_FUNCTION_FILES } from './packaging.ts'
import { startFakeCosmos, type FakeCosmos } from '../../test/support/azure/fake-cosmos.ts'

type Key = [string, string]
interface NodeNoSql {
  insert(table: string, pk: Key, sk: Key | null, data: Record<string, unknown>): Promise<void>
  get(table: string, pk: Key, sk: Key | null): Promise<Record<string, unknown> | undefined>
  update(table: string, pk: Key, sk: Key | null, updates: Record<string, unknown>): Promise<void>
  query(table: string, pk: Key, skName: string): Promise<Array<Record<string, unknown>>>
  delete(table: string, pk: Key, sk: Key | null): Promise<void>
}

let cosmos: FakeCosmos
const saved: Record<string, string | undefined> = {}
const ENV = ['SEBS_NOSQL_ENDPOINT', 'SEBS_NOSQL_SECRET_KEY', 'NOSQL_STORAGE_DATABASE', 'NOSQL_STORAGE_TABLE_shopping_cart', 'NOSQL_STORAGE_TABLE_items']

beforeAll(async () => {
  cosmos = await startFakeCosmos()
  for (const k of ENV) saved[k] = process.env[k]
})

afterAll(async () => {
  for (const k of ENV) {
    if (saved[k] === undefined) delete process.env[k]
    else process.env[k] = saved[k]
  }
  await cosmos?.close()
})

describe('harness-side Cosmos DB NoSqlStorage', () => {
  it('createTable makes the database and a container partitioned by the primary key; insert maps the secondary key to id', async () => {
    const store = createCosmosNoSql({ kind: 'cosmosdb', endpoint: cosmos.endpoint, secretKey: cosmos.key, tables: {} })
    const name = await store.createTable('130.crud-api', 'shopping_cart', 'cart_id', 'product_id')
    expect(name).toBe('130.crud-api-shopping_cart')
    expect(store.connection.tables).toEqual({ shopping_cart: '130.crud-api-shopping_cart' })
    // Idempotent, as a second run against the same account is.
    expect(await store.createTable('130.crud-api', 'shopping_cart', 'cart_id', 'product_id')).toBe(name)
    await store.insert('shopping_cart', ['cart_id', 'c1'], ['product_id', 'p1'], { name: 'apple', price: 2, quantity: 3 })
    const docs = cosmos.docs(COSMOS_DATABASE, name)
    expect(docs).toHaveLength(1)
    expect(docs[0]).toMatchObject({ id: 'p1', cart_id: 'c1', product_id: 'p1', name: 'apple', price: 2, quantity: 3 })
    await store.close()
  })

  it('a wrong account key is refused (the fake checks the master-key signature)', async () => {
    const store = createCosmosNoSql({ kind: 'cosmosdb', endpoint: cosmos.endpoint, secretKey: Buffer.from('wrong').toString('base64'), tables: {} })
    await expect(store.createTable('x', 'y', 'pk')).rejects.toMatchObject({ code: 'STORAGE_FAILED' })
    await store.close()
  })

  it('refuses a connection without a key', () => {
    expect(() => createCosmosNoSql({ kind: 'cosmosdb', endpoint: cosmos.endpoint, tables: {} })).toThrow(/endpoint and a key/)
  })
})

describe('function-side nosql.js (SeBS NoSQL API)', () => {
  let client: NodeNoSql

  beforeAll(async () => {
    const store = createCosmosNoSql({ kind: 'cosmosdb', endpoint: cosmos.endpoint, secretKey: cosmos.key, tables: {} })
    await store.createTable('130.crud-api', 'shopping_cart', 'cart_id', 'product_id')
    await store.createTable('903.nosql-echo', 'items', 'id')
    await store.close()
    process.env.SEBS_NOSQL_ENDPOINT = cosmos.endpoint
    process.env.SEBS_NOSQL_SECRET_KEY = cosmos.key
    process.env.NOSQL_STORAGE_DATABASE = COSMOS_DATABASE
    process.env.NOSQL_STORAGE_TABLE_shopping_cart = '130.crud-api-shopping_cart'
    process.env.NOSQL_STORAGE_TABLE_items = '903.nosql-echo-items'
    const require = createRequire(import.meta.url)
    const mod = require(AZURE_FUNCTION_FILES.nodejs.nosql) as { nosql: { get_instance(): NodeNoSql; instance?: unknown } }
    mod.nosql.instance = undefined
    client = mod.nosql.get_instance()
  })

  it('insert/get return the data with both keys and without Cosmos system fields; a missing item is undefined', async () => {
    await client.insert('shopping_cart', ['cart_id', 'cart-1'], ['product_id', 'b'], { name: 'banana', price: 1, quantity: 2 })
    await client.insert('shopping_cart', ['cart_id', 'cart-1'], ['product_id', 'a'], { name: 'apple', price: 3, quantity: 1 })
    await client.insert('shopping_cart', ['cart_id', 'cart-2'], ['product_id', 'a'], { name: 'other cart', price: 9, quantity: 9 })
    expect(await client.get('shopping_cart', ['cart_id', 'cart-1'], ['product_id', 'b'])).toEqual({ cart_id: 'cart-1', product_id: 'b', name: 'banana', price: 1, quantity: 2 })
    expect(await client.get('shopping_cart', ['cart_id', 'cart-1'], ['product_id', 'zzz'])).toBeUndefined()
    const stored = cosmos.docs(COSMOS_DATABASE, '130.crud-api-shopping_cart').find((d) => d.id === 'b')
    expect(stored).toMatchObject({ id: 'b', cart_id: 'cart-1' })
  })

  it('query returns one partition ordered by the secondary key', async () => {
    const items = await client.query('shopping_cart', ['cart_id', 'cart-1'], 'product_id')
    expect(items.map((i) => [i.product_id, i.name])).toEqual([
      ['a', 'apple'],
      ['b', 'banana'],
    ])
  })

  it('update merges into the item (and creates a missing one); delete removes it and tolerates a missing one', async () => {
    await client.update('shopping_cart', ['cart_id', 'cart-1'], ['product_id', 'a'], { quantity: 5 })
    expect(await client.get('shopping_cart', ['cart_id', 'cart-1'], ['product_id', 'a'])).toMatchObject({ name: 'apple', quantity: 5 })
    await client.update('shopping_cart', ['cart_id', 'cart-3'], ['product_id', 'n'], { quantity: 1 })
    expect(await client.get('shopping_cart', ['cart_id', 'cart-3'], ['product_id', 'n'])).toEqual({ cart_id: 'cart-3', product_id: 'n', quantity: 1 })
    await client.delete('shopping_cart', ['cart_id', 'cart-1'], ['product_id', 'a'])
    expect(await client.get('shopping_cart', ['cart_id', 'cart-1'], ['product_id', 'a'])).toBeUndefined()
    await client.delete('shopping_cart', ['cart_id', 'cart-1'], ['product_id', 'a'])
    expect((await client.query('shopping_cart', ['cart_id', 'cart-1'], 'product_id')).map((i) => i.product_id)).toEqual(['b'])
  })

  it('a table keyed by the primary key alone (903.nosql-echo) keeps its `id` key', async () => {
    await client.insert('items', ['id', 'item-1'], null, { label: 'hello' })
    expect(await client.get('items', ['id', 'item-1'], null)).toEqual({ id: 'item-1', label: 'hello' })
  })

  it('an undeclared table is a clear error', async () => {
    await expect(client.get('nope', ['a', 'b'], null)).rejects.toThrow(/NOSQL_STORAGE_TABLE_nope/)
  })
})
