'use strict'
/**
 * SeBS's function-side NoSQL API on Azure Cosmos DB (NoSQL API):
 * `nosql.get_instance()` with insert/get/update/query/delete; keys are
 * `[name, value]` arrays and every method returns a promise.
 *
 * Mapping (SeBS's): a table is a Cosmos container whose partition key is the
 * primary key's attribute; the secondary key's value is stored as the item's
 * `id`. Items come back like the DynamoDB module returns them: the data plus
 * both keys under their own names, without Cosmos's system fields.
 *
 * Configuration (app settings): NOSQL_STORAGE_TABLE_<table> (container name),
 * NOSQL_STORAGE_DATABASE (default sebs-benchmarks), the account endpoint in
 * NOSQL_STORAGE_URL or SEBS_NOSQL_ENDPOINT and its key in NOSQL_STORAGE_CREDS
 * or SEBS_NOSQL_SECRET_KEY.
 */
const { CosmosClient } = require('@azure/cosmos')

const SYSTEM_FIELDS = ['_rid', '_self', '_etag', '_attachments', '_ts', '_lsn']

function idOf(primaryKey, secondaryKey) {
  // Cosmos needs an id; a table without a secondary key keys items by the primary key alone.
  return String(secondaryKey ? secondaryKey[1] : primaryKey[1])
}

/** A stored item as the API returns it: data plus both keys under their names; `id` only when a key is called that. */
function toItem(resource, primaryKeyName, secondaryKeyName) {
  if (!resource) return undefined
  const item = { ...resource }
  for (const f of SYSTEM_FIELDS) delete item[f]
  if (secondaryKeyName && !(secondaryKeyName in item)) item[secondaryKeyName] = item.id
  if (primaryKeyName !== 'id' && secondaryKeyName !== 'id') delete item.id
  return item
}

class nosql {
  constructor() {
    const env = process.env
    const endpoint = env.NOSQL_STORAGE_URL || env.SEBS_NOSQL_ENDPOINT
    const key = env.NOSQL_STORAGE_CREDS || env.SEBS_NOSQL_SECRET_KEY
    if (!endpoint || !key) {
      throw new Error('nosql: the Cosmos DB endpoint and key are not set (NOSQL_STORAGE_URL / NOSQL_STORAGE_CREDS or SEBS_NOSQL_ENDPOINT / SEBS_NOSQL_SECRET_KEY)')
    }
    this.client = new CosmosClient({ endpoint, key })
    this.database = this.client.database(env.NOSQL_STORAGE_DATABASE || 'sebs-benchmarks')
    this._containers = {}
  }

  _table(table) {
    if (!(table in this._containers)) {
      const name = process.env[`NOSQL_STORAGE_TABLE_${table}`]
      if (!name) {
        throw new Error(`NoSQL table '${table}' is unknown: the environment has no NOSQL_STORAGE_TABLE_${table} (is the table declared in allocateNosql()?)`)
      }
      this._containers[table] = this.database.container(name)
    }
    return this._containers[table]
  }

  /** Stores `data` plus both keys, replacing an item with the same keys. */
  async insert(table, primaryKey, secondaryKey, data) {
    const item = { ...data, [primaryKey[0]]: primaryKey[1], id: idOf(primaryKey, secondaryKey) }
    if (secondaryKey && secondaryKey[0] !== 'id') item[secondaryKey[0]] = secondaryKey[1]
    await this._table(table).items.upsert(item)
  }

  /** The item with these keys, or undefined when there is none. */
  async get(table, primaryKey, secondaryKey) {
    try {
      const res = await this._table(table).item(idOf(primaryKey, secondaryKey), primaryKey[1]).read()
      return toItem(res.resource, primaryKey[0], secondaryKey && secondaryKey[0])
    } catch (err) {
      if (err && err.code === 404) return undefined
      throw err
    }
  }

  /** Sets the given attributes of an existing (or new) item. */
  async update(table, primaryKey, secondaryKey, updates) {
    const existing = await this.get(table, primaryKey, secondaryKey)
    const merged = { ...(existing || {}) }
    for (const [k, v] of Object.entries(updates)) if (v !== undefined) merged[k] = v
    await this.insert(table, primaryKey, secondaryKey, merged)
  }

  /** Every item with this primary key (one partition), ordered by the secondary key. */
  async query(table, primaryKey, secondaryKeyName) {
    const { resources } = await this._table(table)
      .items.query({ query: 'SELECT * FROM c' }, { partitionKey: primaryKey[1] })
      .fetchAll()
    const items = resources.map((r) => toItem(r, primaryKey[0], secondaryKeyName))
    const key = secondaryKeyName || 'id'
    return items.sort((a, b) => (String(a[key]) < String(b[key]) ? -1 : String(a[key]) > String(b[key]) ? 1 : 0))
  }

  async delete(table, primaryKey, secondaryKey) {
    try {
      await this._table(table).item(idOf(primaryKey, secondaryKey), primaryKey[1]).delete()
    } catch (err) {
      // DynamoDB's DeleteItem of a missing item succeeds; keep that behaviour.
      if (!(err && err.code === 404)) throw err
    }
  }

  static get_instance() {
    if (!nosql.instance) nosql.instance = new nosql()
    return nosql.instance
  }
}
nosql.instance = undefined

module.exports = { nosql }
