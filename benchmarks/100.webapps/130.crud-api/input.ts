/**
 * 130.crud-api inputs: SeBS's shopping cart. Every size stores the same four
 * products in a cart of its own (`cart-<size>`); the event is a list of REST
 * requests whose number and kind grow with the size.
 *
 * SeBS makes a fresh random cart per generation; ours are fixed so that
 * inputs are deterministic and cached, and re-inserting is harmless (a put
 * with the same keys replaces the item). The large size writes to its own
 * cart with fixed product ids and empties it at the end, so repeated
 * (sequential) invocations see the same running totals every time.
 */
import type { GenerateInputContext, NosqlTableSpec, ValidateOutputContext } from '../../../core/benchmark-input.ts'

type Size = GenerateInputContext['size']

export const TABLE = 'shopping_cart'

export interface Product {
  product_id: string
  name: string
  price: number
  quantity: number
}

/** SeBS's initial cart. */
export const INITIAL_PRODUCTS: Product[] = [
  { product_id: 'game-gothic', name: 'Gothic Game', price: 42, quantity: 2 },
  { product_id: 'game-gothic-2', name: 'Gothic 2', price: 142, quantity: 3 },
  { product_id: 'sebs-benchmark', name: 'SeBS Benchmark', price: 1000, quantity: 1 },
  { product_id: 'mint-linux', name: 'Mint Linux', price: 0, quantity: 5 },
]

/** PUT + GET rounds of the large size (SeBS: 5). */
export const LARGE_ROUNDS = 20

export interface CartRequest {
  route: 'PUT /cart' | 'GET /cart/{id}' | 'GET /cart' | 'DELETE /cart'
  path?: { id: string }
  body: { cart: string; product_id?: string; name?: string; price?: number; quantity?: number }
}

export function cartId(size: Size): string {
  return `cart-${size}`
}

export function writeCartId(size: Size): string {
  return `cart-${size}-write`
}

/** Product i (1-based) of the large size's rounds; zero-padded ids keep the sort-key order equal to the insertion order. */
export function roundProduct(i: number): Product {
  return { product_id: `new-id-${String(i).padStart(2, '0')}`, name: `Test Item ${i}`, price: 100 * i, quantity: i }
}

export function allocateNosql(): Record<string, NosqlTableSpec> {
  return { [TABLE]: { primaryKey: 'cart_id', secondaryKey: 'product_id' } }
}

export function bucketsCount(): [number, number] {
  return [0, 0]
}

/** The requests each size sends. */
export function requestsFor(size: Size): CartRequest[] {
  const cart = cartId(size)
  if (size === 'test') return [{ route: 'GET /cart/{id}', path: { id: 'game-gothic' }, body: { cart } }]
  if (size === 'small') return [{ route: 'GET /cart', body: { cart } }]
  const write = writeCartId(size)
  const requests: CartRequest[] = []
  for (let i = 1; i <= LARGE_ROUNDS; i++) {
    const p = roundProduct(i)
    requests.push({ route: 'PUT /cart', body: { cart: write, product_id: p.product_id, name: p.name, price: p.price, quantity: p.quantity } })
    requests.push({ route: 'GET /cart', body: { cart: write } })
  }
  // Empty the write cart so that the next invocation starts from the same state.
  requests.push({ route: 'DELETE /cart', body: { cart: write } })
  requests.push({ route: 'GET /cart', body: { cart: write } })
  return requests
}

export async function generateInput(ctx: GenerateInputContext): Promise<Record<string, unknown>> {
  if (!ctx.nosql) throw new Error('130.crud-api needs NoSQL storage: the provider offers none (modules: ["nosql"])')
  const cart = cartId(ctx.size)
  for (const p of INITIAL_PRODUCTS) {
    await ctx.nosql(TABLE, { name: p.name, price: p.price, quantity: p.quantity }, ['cart_id', cart], ['product_id', p.product_id])
  }
  return { requests: requestsFor(ctx.size), size: ctx.size }
}

type Item = Product & { cart_id: string }

/**
 * The results the requests must produce, replayed on a model of the table:
 * `cart-<size>` holds the initial products, every other cart starts empty.
 */
export function expectedResults(requests: CartRequest[], size: Size): unknown[] {
  const carts = new Map<string, Map<string, Item>>()
  const cartOf = (id: string) => {
    let cart = carts.get(id)
    if (!cart) {
      cart = new Map()
      if (id === cartId(size)) for (const p of INITIAL_PRODUCTS) cart.set(p.product_id, { ...p, cart_id: id })
      carts.set(id, cart)
    }
    return cart
  }
  // DynamoDB returns a partition in sort-key (byte) order; the ids are ASCII.
  const sorted = (cart: Map<string, Item>) => [...cart.values()].sort((a, b) => (a.product_id < b.product_id ? -1 : a.product_id > b.product_id ? 1 : 0))
  return requests.map((r) => {
    const cart = cartOf(r.body.cart)
    switch (r.route) {
      case 'PUT /cart': {
        const { product_id, name, price, quantity } = r.body as Required<CartRequest['body']>
        cart.set(product_id, { cart_id: r.body.cart, product_id, name, price, quantity })
        return {}
      }
      case 'GET /cart/{id}':
        return cart.get(r.path!.id) ?? null
      case 'GET /cart': {
        const items = sorted(cart)
        const total = items.reduce((s, p) => s + p.price * p.quantity, 0)
        const quantity = items.reduce((s, p) => s + p.quantity, 0)
        return { products: items.map((p) => p.name), total_cost: total, avg_price: quantity > 0 ? total / quantity : 0 }
      }
      case 'DELETE /cart': {
        const deleted = cart.size
        cart.clear()
        return { deleted }
      }
    }
  })
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Compares one result; returns what differs. */
function compare(got: unknown, want: unknown, where: string): string | undefined {
  if (want === null || !isRecord(want)) {
    return got === want ? undefined : `${where}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`
  }
  if (!isRecord(got)) return `${where}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`
  const keys = new Set([...Object.keys(want), ...Object.keys(got)])
  for (const key of keys) {
    const w = want[key]
    const g = got[key]
    if (key === 'avg_price' && typeof w === 'number' && typeof g === 'number') {
      // A quotient: allow for the last bit of a float printed and parsed again.
      if (Math.abs(g - w) > 1e-9 * Math.max(1, Math.abs(w))) return `${where}: avg_price ${g}, expected ${w}`
      continue
    }
    if (JSON.stringify(g) !== JSON.stringify(w)) return `${where}: ${key} ${JSON.stringify(g)}, expected ${JSON.stringify(w)}`
  }
  return undefined
}

export function validateOutput(ctx: ValidateOutputContext): string | undefined {
  const requests = ctx.input.requests as CartRequest[] | undefined
  if (!Array.isArray(requests)) return 'the input event has no requests'
  const out = ctx.output
  if (!Array.isArray(out)) return `expected a list of ${requests.length} results, got ${JSON.stringify(out)?.slice(0, 200)}`
  if (out.length !== requests.length) return `expected ${requests.length} results, got ${out.length}`
  const want = expectedResults(requests, ctx.size)
  for (let i = 0; i < want.length; i++) {
    const problem = compare(out[i], want[i], `request ${i} (${requests[i].route})`)
    if (problem) return problem
  }
  return undefined
}
