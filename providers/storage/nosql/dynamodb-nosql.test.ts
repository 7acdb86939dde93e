import { describe, expect, it } from 'vitest'
import { nosqlEnv, physicalTableName, toAttributeMap, toAttributeValue } from './dynamodb-nosql.ts'
import { DYNAMODB_FUNCTION_NOSQL } from './wrappers/index.ts'
import { existsSync, readFileSync } from 'node:fs'

describe('physicalTableName', () => {
  it('is sebs-<benchmark>-<table> when that is a valid DynamoDB name', () => {
    expect(physicalTableName('130.crud-api', 'shopping_cart')).toBe('sebs-130.crud-api-shopping_cart')
    expect(physicalTableName('130.crud-api', 'shopping_cart', 'sebs-r1a2')).toBe('sebs-r1a2-130.crud-api-shopping_cart')
  })

  it('replaces characters DynamoDB refuses', () => {
    expect(physicalTableName('my bench/x', 'tä ble')).toBe('sebs-my-bench-x-t--ble')
  })

  it('keeps names within 3..255 characters, distinct when cut', () => {
    const a = physicalTableName('b'.repeat(300), 'one')
    const b = physicalTableName('b'.repeat(300), 'two')
    expect(a).toHaveLength(255)
    expect(b).toHaveLength(255)
    expect(a).not.toBe(b)
    expect(a).toMatch(/^[A-Za-z0-9_.-]+$/)
    expect(physicalTableName('', 'a', '')).toBe('a__')
  })
})

describe('toAttributeValue', () => {
  it('maps JSON values to DynamoDB attribute values', () => {
    expect(toAttributeMap({ s: 'x', n: 1.5, b: true, z: null, l: [1, 'a'], m: { k: 2 }, u: undefined })).toEqual({
      s: { S: 'x' },
      n: { N: '1.5' },
      b: { BOOL: true },
      z: { NULL: true },
      l: { L: [{ N: '1' }, { S: 'a' }] },
      m: { M: { k: { N: '2' } } },
    })
    expect(toAttributeValue(10n)).toEqual({ N: '10' })
  })

  it('refuses values DynamoDB cannot store, naming the field', () => {
    expect(() => toAttributeMap({ price: Number.NaN })).toThrow(/item\.price/)
    expect(() => toAttributeMap({ f: () => 1 })).toThrow(/function/)
  })
})

describe('nosqlEnv', () => {
  it('gives endpoint, region, credentials and one NOSQL_STORAGE_TABLE_ per table', () => {
    const env = nosqlEnv({
      kind: 'dynamodb',
      endpoint: 'http://127.0.0.1:1234',
      region: 'us-east-1',
      accessKey: 'ak',
      secretKey: 'sk',
      tables: { shopping_cart: 'sebs-130.crud-api-shopping_cart' },
    })
    expect(env).toEqual({
      SEBS_NOSQL_ENDPOINT: 'http://127.0.0.1:1234',
      SEBS_NOSQL_REGION: 'us-east-1',
      SEBS_NOSQL_ACCESS_KEY: 'ak',
      SEBS_NOSQL_SECRET_KEY: 'sk',
      NOSQL_STORAGE_TABLE_shopping_cart: 'sebs-130.crud-api-shopping_cart',
    })
  })

  it('leaves out what is not set, so that AWS functions use their role', () => {
    expect(nosqlEnv({ kind: 'dynamodb', endpoint: '', region: 'eu-west-1', tables: { t: 'p' } })).toEqual({
      SEBS_NOSQL_REGION: 'eu-west-1',
      NOSQL_STORAGE_TABLE_t: 'p',
    })
  })
})

describe('DYNAMODB_FUNCTION_NOSQL', () => {
  it('points at the wrapper files and pins the node SDK to the version the harness uses', () => {
    expect(existsSync(DYNAMODB_FUNCTION_NOSQL.nodejs.file)).toBe(true)
    expect(existsSync(DYNAMODB_FUNCTION_NOSQL.python.file)).toBe(true)
    const root = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      dependencies: Record<string, string>
    }
    expect(DYNAMODB_FUNCTION_NOSQL.nodejs.dependencies['@aws-sdk/client-dynamodb']).toBe(root.dependencies['@aws-sdk/client-dynamodb'])
    expect(DYNAMODB_FUNCTION_NOSQL.python.requirements).toEqual(['boto3'])
  })
})
