import { describe, expect, it } from 'vitest'
import type { GenerateInputContext, NosqlInsertFn } from '../../../core/benchmark-input.ts'
import {
  allocateNosql,
  bucketsCount,
  expectedResults,
  generateInput,
  LARGE_ROUNDS,
  requestsFor,
  validateOutput,
  type CartRequest,
} from './input.ts'

type Size = GenerateInputContext['size']

function context(size: Size, inserts: unknown[][]): GenerateInputContext {
  const nosql: NosqlInsertFn = async (...args) => {
    inserts.push(args)
  }
  return {
    dataDir: '/nonexistent',
    size,
    bucket: 'b',
    inputPrefixes: [],
    outputPrefixes: [],
    upload: async () => {
      throw new Error('130.crud-api uploads nothing')
    },
    nosql,
  }
}

const validate = (size: Size, requests: CartRequest[], output: unknown, language: 'python' | 'nodejs' = 'python') =>
  validateOutput({ dataDir: '/nonexistent', size, language, input: { requests, size }, output })

describe('130.crud-api input', () => {
  it('declares the shopping_cart table and no buckets', () => {
    expect(allocateNosql()).toEqual({ shopping_cart: { primaryKey: 'cart_id', secondaryKey: 'product_id' } })
    expect(bucketsCount()).toEqual([0, 0])
  })

  it('inserts the same four products into a per-size cart, deterministically', async () => {
    const first: unknown[][] = []
    const second: unknown[][] = []
    const a = await generateInput(context('small', first))
    const b = await generateInput(context('small', second))
    expect(a).toEqual(b)
    expect(first).toEqual(second)
    expect(first).toEqual([
      ['shopping_cart', { name: 'Gothic Game', price: 42, quantity: 2 }, ['cart_id', 'cart-small'], ['product_id', 'game-gothic']],
      ['shopping_cart', { name: 'Gothic 2', price: 142, quantity: 3 }, ['cart_id', 'cart-small'], ['product_id', 'game-gothic-2']],
      ['shopping_cart', { name: 'SeBS Benchmark', price: 1000, quantity: 1 }, ['cart_id', 'cart-small'], ['product_id', 'sebs-benchmark']],
      ['shopping_cart', { name: 'Mint Linux', price: 0, quantity: 5 }, ['cart_id', 'cart-small'], ['product_id', 'mint-linux']],
    ])
  })

  it('needs NoSQL storage', async () => {
    await expect(generateInput({ ...context('test', []), nosql: undefined })).rejects.toThrow(/needs NoSQL storage/)
  })

  it('scales the requests with the size', async () => {
    const test = (await generateInput(context('test', []))).requests as CartRequest[]
    const small = (await generateInput(context('small', []))).requests as CartRequest[]
    const large = (await generateInput(context('large', []))).requests as CartRequest[]
    expect(test).toEqual([{ route: 'GET /cart/{id}', path: { id: 'game-gothic' }, body: { cart: 'cart-test' } }])
    expect(small).toEqual([{ route: 'GET /cart', body: { cart: 'cart-small' } }])
    expect(large).toHaveLength(2 * LARGE_ROUNDS + 2)
    expect(LARGE_ROUNDS).toBe(20)
    expect(large.filter((r) => r.route === 'PUT /cart')).toHaveLength(20)
    expect(large[0]).toEqual({
      route: 'PUT /cart',
      body: { cart: 'cart-large-write', product_id: 'new-id-01', name: 'Test Item 1', price: 100, quantity: 1 },
    })
    expect(large.slice(-2).map((r) => r.route)).toEqual(['DELETE /cart', 'GET /cart'])
  })
})

describe('130.crud-api validateOutput', () => {
  const item = { cart_id: 'cart-test', product_id: 'game-gothic', name: 'Gothic Game', price: 42, quantity: 2 }
  const smallCart = {
    products: ['Gothic Game', 'Gothic 2', 'Mint Linux', 'SeBS Benchmark'],
    total_cost: 1510,
    avg_price: 1510 / 11,
  }

  it('knows the exact answers of the test and small sizes', () => {
    expect(expectedResults(requestsFor('test'), 'test')).toEqual([item])
    // Sort-key order: game-gothic < game-gothic-2 < mint-linux < sebs-benchmark; 42·2 + 142·3 + 1000 + 0 = 1510 over 11 units.
    expect(expectedResults(requestsFor('small'), 'small')).toEqual([smallCart])
  })

  it('accepts right answers, including key order and float print round trips', () => {
    expect(validate('test', requestsFor('test'), [{ quantity: 2, price: 42, name: 'Gothic Game', product_id: 'game-gothic', cart_id: 'cart-test' }])).toBeUndefined()
    expect(validate('small', requestsFor('small'), [{ ...smallCart, avg_price: Number((1510 / 11).toPrecision(16)) }])).toBeUndefined()
    const large = requestsFor('large')
    expect(validate('large', large, expectedResults(large, 'large'), 'nodejs')).toBeUndefined()
  })

  it('checks the running totals of the large size', () => {
    const want = expectedResults(requestsFor('large'), 'large') as Array<Record<string, unknown>>
    // After round k: items 1..k, total Σ100·i·i, units Σi.
    const k = 7
    const total = Array.from({ length: k }, (_, i) => 100 * (i + 1) * (i + 1)).reduce((a, b) => a + b)
    expect(want[2 * k - 1]).toEqual({
      products: Array.from({ length: k }, (_, i) => `Test Item ${i + 1}`),
      total_cost: total,
      avg_price: total / ((k * (k + 1)) / 2),
    })
    expect(want[2 * LARGE_ROUNDS]).toEqual({ deleted: 20 })
    expect(want[2 * LARGE_ROUNDS + 1]).toEqual({ products: [], total_cost: 0, avg_price: 0 })
  })

  it('rejects wrong answers, saying what differs', () => {
    expect(validate('test', requestsFor('test'), [{ ...item, price: 43 }])).toMatch(/request 0 \(GET \/cart\/\{id\}\): price 43, expected 42/)
    expect(validate('test', requestsFor('test'), [null])).toMatch(/expected \{.*got null/)
    expect(validate('small', requestsFor('small'), [{ ...smallCart, total_cost: 1184 }])).toMatch(/total_cost 1184, expected 1510/)
    expect(validate('small', requestsFor('small'), [{ ...smallCart, avg_price: 137.28 }])).toMatch(/avg_price/)
    expect(validate('small', requestsFor('small'), [{ ...smallCart, products: [...smallCart.products].reverse() }])).toMatch(/products/)
    expect(validate('small', requestsFor('small'), [{ ...smallCart, extra: 1 }])).toMatch(/extra/)
    expect(validate('small', requestsFor('small'), [])).toMatch(/expected 1 results, got 0/)
    expect(validate('small', requestsFor('small'), { result: [] })).toMatch(/expected a list/)

    // A large run that started from a dirty write cart (items left by a crashed run) is caught at the first GET.
    const large = requestsFor('large')
    const leftovers = large.filter((r) => r.route === 'PUT /cart')
    const dirty = expectedResults([...leftovers, ...large], 'large').slice(leftovers.length)
    expect(validate('large', large, dirty)).toMatch(/request 1 \(GET \/cart\)/)
    const wrongDelete = expectedResults(large, 'large')
    wrongDelete[2 * LARGE_ROUNDS] = { deleted: 19 }
    expect(validate('large', large, wrongDelete)).toMatch(/DELETE \/cart\): deleted 19, expected 20/)
  })
})
