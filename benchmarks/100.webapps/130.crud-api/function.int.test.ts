/**
 * Runs 130's Python and Node.js functions for real against dynalite: the
 * harness side creates the table and inserts the carts (generateInput through
 * createDynamoNoSql), the function reaches the table through the DynamoDB
 * nosql wrapper with the environment nosqlEnv() gives, and validateOutput
 * checks every answer. The package is laid out as the builder does it: the
 * wrapper copied next to function.{py,js}, its dependencies added to the
 * benchmark's (installed once into .sebs-cache/test-deps/).
 */
import { copyFile, cp, readFile, rm, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { QueryCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { NoSqlConnection, NoSqlStorage } from '../../../providers/types.ts'
import { startDynalite, type DynaliteServer } from '../../../providers/storage/nosql/dynalite-server.ts'
import { createDynamoNoSql, nosqlEnv } from '../../../providers/storage/nosql/dynamodb-nosql.ts'
import { DYNAMODB_FUNCTION_NOSQL } from '../../../providers/storage/nosql/wrappers/index.ts'
import { createInputContext, makeTempDir, runFunction } from '../../_lib/testing/run-function.ts'
import { allocateNosql, bucketsCount, generateInput, LARGE_ROUNDS, validateOutput, writeCartId } from './input.ts'

const BENCH_DIR = dirname(fileURLToPath(import.meta.url))
const BENCH = '130.crud-api'
const CREDS = { accessKey: 'sebs-test', secretKey: 'sebs-test-secret' }

let root: string
let benchCopy: string
let server: DynaliteServer
let connection: NoSqlConnection
let store: NoSqlStorage

/** A copy of the benchmark with the nosql module and its dependencies added, as the package builder does. */
async function packageLikeBuilder(dest: string): Promise<void> {
  await cp(BENCH_DIR, dest, { recursive: true, filter: (src) => !src.endsWith('.test.ts') })
  await copyFile(DYNAMODB_FUNCTION_NOSQL.nodejs.file, join(dest, 'nodejs', 'nosql.js'))
  await copyFile(DYNAMODB_FUNCTION_NOSQL.python.file, join(dest, 'python', 'nosql.py'))
  const pkgPath = join(dest, 'nodejs', 'package.json')
  const pkg = JSON.parse(await readFile(pkgPath, 'utf8')) as { dependencies?: Record<string, string> }
  pkg.dependencies = { ...pkg.dependencies, ...DYNAMODB_FUNCTION_NOSQL.nodejs.dependencies }
  await writeFile(pkgPath, JSON.stringify(pkg, null, 2))
  const reqPath = join(dest, 'python', 'requirements.txt')
  await writeFile(reqPath, (await readFile(reqPath, 'utf8')) + DYNAMODB_FUNCTION_NOSQL.python.requirements.join('\n') + '\n')
}

beforeAll(async () => {
  root = await makeTempDir('130-fn')
  // Same folder name as the benchmark: the dependency cache is keyed by it.
  benchCopy = join(root, BENCH)
  await packageLikeBuilder(benchCopy)
  server = await startDynalite()
  connection = { kind: 'dynamodb', endpoint: server.endpoint, region: 'us-east-1', ...CREDS, tables: {} }
  store = createDynamoNoSql(connection)
  for (const [table, spec] of Object.entries(allocateNosql())) {
    await store.createTable(BENCH, table, spec.primaryKey, spec.secondaryKey)
  }
}, 60_000)

afterAll(async () => {
  await store?.close()
  await server?.close()
  if (root) await rm(root, { recursive: true, force: true })
})

async function eventFor(size: 'test' | 'small' | 'large'): Promise<Record<string, unknown>> {
  const ctx = createInputContext({ benchmark: BENCH, size, dataDir: join(root, 'data'), counts: bucketsCount() })
  return generateInput({ ...ctx, nosql: (table, data, pk, sk) => store.insert(table, pk, sk, data) })
}

function invoke(language: 'python' | 'nodejs', event: Record<string, unknown>) {
  return runFunction({
    benchmarkDir: benchCopy,
    language,
    event,
    // Nothing from the machine's AWS configuration may reach the clients.
    env: { ...nosqlEnv(connection), AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' },
    timeoutMs: 120_000,
  })
}

describe.each(['python', 'nodejs'] as const)('130.crud-api %s function on dynalite', (language) => {
  it.each(['test', 'small'] as const)('answers the %s requests exactly', async (size) => {
    const event = await eventFor(size)
    const run = await invoke(language, event)
    expect(validateOutput({ dataDir: root, size, language, input: event, output: run.output.result })).toBeUndefined()
    expect(run.output.measurement?.requests).toBe(1)
    expect(run.output.measurement?.compute_time).toBeGreaterThan(0)
  }, 600_000)

  it('keeps the large running totals exact across repeated invocations', async () => {
    const event = await eventFor('large')
    for (let i = 0; i < 2; i++) {
      const run = await invoke(language, event)
      const result = run.output.result as unknown[]
      expect(result).toHaveLength(2 * LARGE_ROUNDS + 2)
      expect(validateOutput({ dataDir: root, size: 'large', language, input: event, output: result }), `invocation ${i + 1}`).toBeUndefined()
    }
    // The run leaves the write cart empty for the next one.
    const sdk = new DynamoDBClient({
      endpoint: server.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: CREDS.accessKey, secretAccessKey: CREDS.secretKey },
    })
    const left = await sdk.send(
      new QueryCommand({
        TableName: connection.tables.shopping_cart,
        KeyConditionExpression: 'cart_id = :c',
        ExpressionAttributeValues: { ':c': { S: writeCartId('large') } },
      }),
    )
    sdk.destroy()
    expect(left.Count).toBe(0)
  }, 600_000)

  it('reports a wrong answer when the data differ from what generateInput stored', async () => {
    const event = await eventFor('small')
    await store.insert('shopping_cart', ['cart_id', 'cart-small'], ['product_id', 'mint-linux'], { name: 'Mint Linux', price: 1, quantity: 5 })
    try {
      const run = await invoke(language, event)
      expect(validateOutput({ dataDir: root, size: 'small', language, input: event, output: run.output.result })).toMatch(/total_cost 1515, expected 1510/)
    } finally {
      await eventFor('small') // restore the cart
    }
  }, 600_000)
})
