/**
 * Harness-side NoSQL storage for DynamoDB-compatible stores: AWS DynamoDB
 * itself and the embedded dynalite of the local provider. Creates the tables
 * a benchmark declares (`allocateNosql()`) and inserts its initial items
 * (`ctx.nosql`); functions reach the same tables through the wrappers in
 * `./wrappers/` with the environment from `nosqlEnv()`.
 */
import { createHash } from 'node:crypto'
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  PutItemCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  TagResourceCommand,
  type AttributeDefinition,
  type AttributeValue,
  type KeySchemaElement,
  type DynamoDBClientConfig,
  type TableDescription,
} from '@aws-sdk/client-dynamodb'
import { ProviderError, errorMessage } from '../../../core/errors.ts'
import type { Logger } from '../../../core/logger.ts'
import type { NoSqlConnection, NoSqlStorage } from '../../types.ts'

export interface DynamoNoSqlOptions {
  /** First part of physical table names (default `sebs`): `<prefix>-<benchmark>-<table>`. */
  tablePrefix?: string
  /** Tags put on tables this client creates (e.g. the run id, for sweeping). */
  tags?: Record<string, string>
  /** How long to wait for a table to become ACTIVE (ms, default 120 s: DynamoDB takes seconds, dynalite ms). */
  activeTimeoutMs?: number
  /** Name used in error messages (`[aws] …`, `[local] …`); default `dynamodb`. */
  provider?: string
  logger?: Logger
}

const TABLE_NAME_MAX = 255
const TABLE_NAME_MIN = 3

/**
 * The physical table name for a benchmark's logical table: `sebs-<benchmark>-<table>`,
 * reduced to DynamoDB's alphabet `[A-Za-z0-9_.-]` and 3–255 characters. Names that
 * had to be cut keep a hash of the full name so that two long names stay distinct.
 */
export function physicalTableName(benchmark: string, table: string, prefix = 'sebs'): string {
  const raw = [prefix, benchmark, table].filter((p) => p.length > 0).join('-')
  let name = raw.replace(/[^A-Za-z0-9_.-]/g, '-')
  if (name.length > TABLE_NAME_MAX) {
    const hash = createHash('sha256').update(raw).digest('hex').slice(0, 12)
    name = `${name.slice(0, TABLE_NAME_MAX - hash.length - 1)}-${hash}`
  }
  while (name.length < TABLE_NAME_MIN) name += '_'
  return name
}

/**
 * Environment that function instances need to reach the tables through the
 * nosql wrapper: the endpoint and credentials (only when set, so that on AWS
 * the function role is used) and SeBS's `NOSQL_STORAGE_TABLE_<logical>`.
 */
export function nosqlEnv(connection: NoSqlConnection, tables: Record<string, string> = connection.tables): Record<string, string> {
  const env: Record<string, string> = {}
  if (connection.endpoint) env.SEBS_NOSQL_ENDPOINT = connection.endpoint
  if (connection.region) env.SEBS_NOSQL_REGION = connection.region
  if (connection.accessKey) env.SEBS_NOSQL_ACCESS_KEY = connection.accessKey
  if (connection.secretKey) env.SEBS_NOSQL_SECRET_KEY = connection.secretKey
  for (const [logical, physical] of Object.entries(tables)) env[`NOSQL_STORAGE_TABLE_${logical}`] = physical
  return env
}

/** Converts a plain JSON-like value to a DynamoDB attribute value (what util-dynamodb's marshall does). */
export function toAttributeValue(value: unknown, path = 'item'): AttributeValue {
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
    case 'object': {
      if (value instanceof Uint8Array) return { B: value }
      if (Array.isArray(value)) return { L: value.filter((v) => v !== undefined).map((v, i) => toAttributeValue(v, `${path}[${i}]`)) }
      return { M: toAttributeMap(value as Record<string, unknown>, path) }
    }
    default:
      throw new TypeError(`${path}: DynamoDB cannot store a value of type ${typeof value}`)
  }
}

/** `toAttributeValue` for every field of an object; undefined fields are left out. */
export function toAttributeMap(data: Record<string, unknown>, path = 'item'): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {}
  for (const [k, v] of Object.entries(data)) if (v !== undefined) out[k] = toAttributeValue(v, `${path}.${k}`)
  return out
}

/** Creates the harness-side client for a DynamoDB-compatible store. */
export function createDynamoNoSql(connection: NoSqlConnection, options: DynamoNoSqlOptions = {}): NoSqlStorage {
  const provider = options.provider ?? 'dynamodb'
  const prefix = options.tablePrefix ?? 'sebs'
  const activeTimeoutMs = options.activeTimeoutMs ?? 120_000
  const logger = options.logger
  const config: DynamoDBClientConfig = { region: connection.region ?? 'us-east-1' }
  if (connection.endpoint) config.endpoint = connection.endpoint
  if (connection.accessKey && connection.secretKey) {
    config.credentials = { accessKeyId: connection.accessKey, secretAccessKey: connection.secretKey }
  }
  const client = new DynamoDBClient(config)
  /** Physical names created or reused by this client, to accept them in insert() too. */
  const physicalNames = new Set<string>(Object.values(connection.tables))

  const fail = (message: string, cause?: unknown): never => {
    throw new ProviderError(provider, 'STORAGE_FAILED', cause === undefined ? message : `${message}: ${errorMessage(cause)}`, cause === undefined ? undefined : { cause })
  }

  async function describe(name: string): Promise<TableDescription | undefined> {
    try {
      return (await client.send(new DescribeTableCommand({ TableName: name }))).Table
    } catch (err) {
      if (err instanceof ResourceNotFoundException) return undefined
      return fail(`cannot describe DynamoDB table ${name} at ${connection.endpoint || 'the default endpoint'}`, err)
    }
  }

  /** Polls until the table is ACTIVE; DynamoDB offers no push notification for it. */
  async function waitActive(name: string): Promise<TableDescription> {
    const deadline = Date.now() + activeTimeoutMs
    let delay = 50
    for (;;) {
      const table = await describe(name)
      if (table?.TableStatus === 'ACTIVE') return table
      if (Date.now() + delay > deadline) {
        throw new ProviderError(
          provider,
          'TIMEOUT',
          `DynamoDB table ${name} was not ACTIVE within ${activeTimeoutMs} ms (status ${table?.TableStatus ?? 'missing'}); check the table in the console or raise the timeout`,
        )
      }
      await new Promise((r) => setTimeout(r, delay))
      delay = Math.min(delay * 2, 2000)
    }
  }

  function checkKeys(table: TableDescription, name: string, primaryKey: string, secondaryKey: string | undefined): void {
    const hash = table.KeySchema?.find((k) => k.KeyType === 'HASH')?.AttributeName
    const range = table.KeySchema?.find((k) => k.KeyType === 'RANGE')?.AttributeName
    if (hash !== primaryKey || range !== secondaryKey) {
      fail(
        `DynamoDB table ${name} exists with keys (${hash}, ${range ?? 'no sort key'}) but the benchmark needs (${primaryKey}, ${secondaryKey ?? 'no sort key'}); delete the table (\`sebs cleanup\`) and run again`,
      )
    }
  }

  async function waitGone(name: string): Promise<void> {
    const deadline = Date.now() + activeTimeoutMs
    while ((await describe(name)) !== undefined) {
      if (Date.now() > deadline) throw new ProviderError(provider, 'TIMEOUT', `DynamoDB table ${name} stayed in DELETING for ${activeTimeoutMs} ms; try again later`)
      await new Promise((r) => setTimeout(r, 500))
    }
  }

  function resolveTable(table: string): string {
    const mapped = connection.tables[table]
    if (mapped) return mapped
    if (physicalNames.has(table)) return table
    throw new ProviderError(
      provider,
      'STORAGE_FAILED',
      `NoSQL table '${table}' was not created; declare it in the benchmark's allocateNosql() (known tables: ${Object.keys(connection.tables).join(', ') || 'none'})`,
    )
  }

  return {
    connection,

    async createTable(benchmark, table, primaryKey, secondaryKey) {
      const name = physicalTableName(benchmark, table, prefix)
      let existing = await describe(name)
      if (existing?.TableStatus === 'DELETING') {
        await waitGone(name)
        existing = undefined
      }
      if (existing) {
        checkKeys(existing, name, primaryKey, secondaryKey)
        logger?.debug(`reusing DynamoDB table ${name} (${existing.TableStatus})`)
      } else {
        // Keys are strings: the benchmark-input contract passes key values as strings.
        const attributes: AttributeDefinition[] = [{ AttributeName: primaryKey, AttributeType: 'S' }]
        const keys: KeySchemaElement[] = [{ AttributeName: primaryKey, KeyType: 'HASH' }]
        if (secondaryKey) {
          attributes.push({ AttributeName: secondaryKey, AttributeType: 'S' })
          keys.push({ AttributeName: secondaryKey, KeyType: 'RANGE' })
        }
        try {
          await client.send(
            new CreateTableCommand({ TableName: name, BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: attributes, KeySchema: keys }),
          )
          logger?.debug(`creating DynamoDB table ${name}`)
        } catch (err) {
          // Another process created it between describe and create: wait for theirs.
          if (!(err instanceof ResourceInUseException)) fail(`cannot create DynamoDB table ${name}`, err)
        }
      }
      const active = await waitActive(name)
      checkKeys(active, name, primaryKey, secondaryKey)
      if (options.tags && Object.keys(options.tags).length > 0 && active.TableArn) {
        try {
          await client.send(
            new TagResourceCommand({ ResourceArn: active.TableArn, Tags: Object.entries(options.tags).map(([Key, Value]) => ({ Key, Value })) }),
          )
        } catch (err) {
          fail(`cannot tag DynamoDB table ${name}`, err)
        }
      }
      connection.tables[table] = name
      physicalNames.add(name)
      return name
    },

    async insert(table, primaryKey, secondaryKey, data) {
      const name = resolveTable(table)
      const item: Record<string, unknown> = { ...data, [primaryKey[0]]: primaryKey[1] }
      if (secondaryKey) item[secondaryKey[0]] = secondaryKey[1]
      let attributes: Record<string, AttributeValue>
      try {
        attributes = toAttributeMap(item)
      } catch (err) {
        return fail(`cannot store item in ${name}`, err)
      }
      try {
        // PutItem replaces an item with the same keys, so re-inserting cached inputs is idempotent.
        await client.send(new PutItemCommand({ TableName: name, Item: attributes }))
      } catch (err) {
        fail(`cannot insert into DynamoDB table ${name}`, err)
      }
    },

    async close() {
      client.destroy()
    },
  }
}
