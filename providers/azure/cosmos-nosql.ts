/**
 * Harness-side NoSQL storage on Azure Cosmos DB (NoSQL API), with SeBS's
 * mapping: one database for the suite, one container per benchmark table
 * (`<benchmark>-<table>`) partitioned by the table's primary key, and the
 * secondary key's value stored as the item's `id` (it is also kept under its
 * own name, so functions read items back as the DynamoDB module returns them).
 *
 * The account key is in the connection (functions need it too, through
 * their app settings); it is never logged.
 */
import { CosmosClient, type Container } from '@azure/cosmos'
import { ProviderError, errorMessage } from '../../core/errors.ts'
import type { NoSqlConnection, NoSqlStorage } from '../types.ts'
import { COSMOS_DATABASE, cosmosContainerName } from './naming.ts'

export interface CosmosNoSqlOptions {
  database?: string
}

export function createCosmosNoSql(connection: NoSqlConnection, options: CosmosNoSqlOptions = {}): NoSqlStorage & { readonly database: string } {
  if (connection.kind !== 'cosmosdb' || !connection.endpoint || !connection.secretKey) {
    throw new ProviderError('azure', 'STORAGE_FAILED', `Cosmos DB storage needs a 'cosmosdb' connection with an endpoint and a key (got kind '${connection.kind}').`)
  }
  const databaseId = options.database ?? COSMOS_DATABASE
  const client = new CosmosClient({ endpoint: connection.endpoint, key: connection.secretKey })
  const containers = new Map<string, Container>()
  let database: Promise<void> | undefined

  const ensureDatabase = () => {
    database ??= client.databases
      .createIfNotExists({ id: databaseId })
      .then(() => undefined)
      .catch((err) => {
        database = undefined
        throw new ProviderError('azure', 'STORAGE_FAILED', `Creating Cosmos DB database '${databaseId}' failed: ${errorMessage(err)}`, { cause: err })
      })
    return database
  }

  const container = (table: string): Container => {
    const physical = connection.tables[table] ?? table
    let c = containers.get(physical)
    if (!c) {
      c = client.database(databaseId).container(physical)
      containers.set(physical, c)
    }
    return c
  }

  return {
    connection,
    database: databaseId,

    async createTable(benchmark, table, primaryKey, _secondaryKey) {
      await ensureDatabase()
      const name = cosmosContainerName(benchmark, table)
      try {
        await client.database(databaseId).containers.createIfNotExists({ id: name, partitionKey: { paths: [`/${primaryKey}`] } })
      } catch (err) {
        throw new ProviderError('azure', 'STORAGE_FAILED', `Creating Cosmos DB container '${name}' failed: ${errorMessage(err)}`, { cause: err })
      }
      connection.tables[table] = name
      return name
    },

    async insert(table, primaryKey, secondaryKey, data) {
      const item: Record<string, unknown> = { ...data, [primaryKey[0]]: primaryKey[1], id: String(secondaryKey ? secondaryKey[1] : primaryKey[1]) }
      if (secondaryKey && secondaryKey[0] !== 'id') item[secondaryKey[0]] = secondaryKey[1]
      try {
        await container(table).items.upsert(item)
      } catch (err) {
        throw new ProviderError('azure', 'STORAGE_FAILED', `Inserting into Cosmos DB table '${table}' failed: ${errorMessage(err)}`, { cause: err })
      }
    },

    async close() {
      containers.clear()
      client.dispose()
    },
  }
}
