// NoSQL client for benchmark functions on DynamoDB-compatible stores (AWS
// DynamoDB, the local provider's dynalite). SeBS's API: `nosql.get_instance()`
// with insert/get/update/query/delete; keys are `[name, value]` arrays and
// every method returns a promise. The physical table comes from the env var
// NOSQL_STORAGE_TABLE_<table>; SEBS_NOSQL_* set the endpoint and credentials
// (unset on AWS, where the function's role and region apply).
'use strict'

const {
  DynamoDBClient,
  PutItemCommand,
  GetItemCommand,
  UpdateItemCommand,
  QueryCommand,
  DeleteItemCommand,
} = require('@aws-sdk/client-dynamodb')

// Plain attribute values instead of @aws-sdk/util-dynamodb: one dependency
// fewer in every package, and numbers come back as JS numbers (SeBS's Python
// wrapper turns Decimals into int/float the same way).
function toAttr(value, path) {
  if (value === null) return { NULL: true }
  switch (typeof value) {
    case 'string':
      return { S: value }
    case 'boolean':
      return { BOOL: value }
    case 'bigint':
      return { N: value.toString() }
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`${path}: DynamoDB cannot store the number ${value}`)
      return { N: String(value) }
    case 'object':
      if (value instanceof Uint8Array) return { B: value }
      if (Array.isArray(value)) return { L: value.filter((v) => v !== undefined).map((v, i) => toAttr(v, `${path}[${i}]`)) }
      return { M: toMap(value, path) }
    default:
      throw new TypeError(`${path}: DynamoDB cannot store a value of type ${typeof value}`)
  }
}

function toMap(obj, path = 'item') {
  const out = {}
  for (const [k, v] of Object.entries(obj)) if (v !== undefined) out[k] = toAttr(v, `${path}.${k}`)
  return out
}

function fromAttr(attr) {
  if ('S' in attr) return attr.S
  if ('N' in attr) return Number(attr.N)
  if ('BOOL' in attr) return attr.BOOL
  if ('NULL' in attr) return null
  if ('M' in attr) return fromMap(attr.M)
  if ('L' in attr) return attr.L.map(fromAttr)
  if ('B' in attr) return Buffer.from(attr.B)
  if ('SS' in attr) return [...attr.SS]
  if ('NS' in attr) return attr.NS.map(Number)
  if ('BS' in attr) return attr.BS.map((b) => Buffer.from(b))
  throw new TypeError(`unsupported DynamoDB attribute ${JSON.stringify(Object.keys(attr))}`)
}

function fromMap(map) {
  const out = {}
  for (const [k, v] of Object.entries(map)) out[k] = fromAttr(v)
  return out
}

function keyOf(primaryKey, secondaryKey) {
  const key = { [primaryKey[0]]: primaryKey[1] }
  if (secondaryKey) key[secondaryKey[0]] = secondaryKey[1]
  return toMap(key, 'key')
}

class nosql {
  constructor() {
    const env = process.env
    const config = { region: env.SEBS_NOSQL_REGION || env.AWS_REGION || 'us-east-1' }
    if (env.SEBS_NOSQL_ENDPOINT) config.endpoint = env.SEBS_NOSQL_ENDPOINT
    if (env.SEBS_NOSQL_ACCESS_KEY && env.SEBS_NOSQL_SECRET_KEY) {
      config.credentials = { accessKeyId: env.SEBS_NOSQL_ACCESS_KEY, secretAccessKey: env.SEBS_NOSQL_SECRET_KEY }
    }
    this.client = new DynamoDBClient(config)
    this._tables = {}
  }

  _table(table) {
    if (!(table in this._tables)) {
      const name = process.env[`NOSQL_STORAGE_TABLE_${table}`]
      if (!name) {
        throw new Error(`NoSQL table '${table}' is unknown: the environment has no NOSQL_STORAGE_TABLE_${table} (is the table declared in allocateNosql()?)`)
      }
      this._tables[table] = name
    }
    return this._tables[table]
  }

  /** Stores `data` plus both keys, replacing an item with the same keys. */
  async insert(table, primaryKey, secondaryKey, data) {
    const item = { ...data, [primaryKey[0]]: primaryKey[1] }
    if (secondaryKey) item[secondaryKey[0]] = secondaryKey[1]
    await this.client.send(new PutItemCommand({ TableName: this._table(table), Item: toMap(item) }))
  }

  /** The item with these keys, or undefined when there is none. */
  async get(table, primaryKey, secondaryKey) {
    const res = await this.client.send(
      new GetItemCommand({ TableName: this._table(table), Key: keyOf(primaryKey, secondaryKey), ConsistentRead: true }),
    )
    return res.Item ? fromMap(res.Item) : undefined
  }

  /** Sets the given attributes of an existing (or new) item. */
  async update(table, primaryKey, secondaryKey, updates) {
    const entries = Object.entries(updates).filter(([, v]) => v !== undefined)
    if (entries.length === 0) return
    const names = {}
    const values = {}
    const sets = entries.map(([name, value], i) => {
      // Placeholders by index: attribute names may hold characters an expression cannot.
      names[`#u${i}`] = name
      values[`:u${i}`] = toAttr(value, `updates.${name}`)
      return `#u${i} = :u${i}`
    })
    await this.client.send(
      new UpdateItemCommand({
        TableName: this._table(table),
        Key: keyOf(primaryKey, secondaryKey),
        UpdateExpression: `SET ${sets.join(', ')}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    )
  }

  /** Every item with this primary key, in sort-key order (all pages). */
  async query(table, primaryKey, _secondaryKeyName) {
    const items = []
    let start
    do {
      const res = await this.client.send(
        new QueryCommand({
          TableName: this._table(table),
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': primaryKey[0] },
          ExpressionAttributeValues: { ':pk': toAttr(primaryKey[1], 'primaryKey') },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      )
      for (const item of res.Items || []) items.push(fromMap(item))
      start = res.LastEvaluatedKey
    } while (start)
    return items
  }

  async delete(table, primaryKey, secondaryKey) {
    await this.client.send(new DeleteItemCommand({ TableName: this._table(table), Key: keyOf(primaryKey, secondaryKey) }))
  }

  static get_instance() {
    if (!nosql.instance) nosql.instance = new nosql()
    return nosql.instance
  }
}

module.exports = { nosql }
