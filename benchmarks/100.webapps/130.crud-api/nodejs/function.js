// 130.crud-api, Node.js: a shopping-cart REST API on a NoSQL table (SeBS's
// 130.crud-api). The event is a list of requests, each a route plus a body;
// the function answers them in order and returns one result per request.
'use strict'

const nosql = require('./nosql')

const client = nosql.nosql.get_instance()
const TABLE = 'shopping_cart'

async function addProduct(cartId, productId, name, price, quantity) {
  await client.insert(TABLE, ['cart_id', cartId], ['product_id', productId], { price, quantity, name })
  return {}
}

async function getProduct(cartId, productId) {
  // JSON has no undefined: a missing product is null, as Python's None.
  return (await client.get(TABLE, ['cart_id', cartId], ['product_id', productId])) ?? null
}

async function queryProducts(cartId) {
  const products = []
  let totalCost = 0
  let quantity = 0
  for (const item of await client.query(TABLE, ['cart_id', cartId], 'product_id')) {
    products.push(item.name)
    totalCost += item.price * item.quantity
    quantity += item.quantity
  }
  return { products, total_cost: totalCost, avg_price: quantity > 0 ? totalCost / quantity : 0 }
}

async function emptyCart(cartId) {
  const items = await client.query(TABLE, ['cart_id', cartId], 'product_id')
  for (const item of items) await client.delete(TABLE, ['cart_id', cartId], ['product_id', item.product_id])
  return { deleted: items.length }
}

exports.handler = async function (event) {
  const results = []
  const begin = process.hrtime.bigint()
  for (const request of event.requests) {
    const { route, body } = request
    let res
    if (route === 'PUT /cart') res = await addProduct(body.cart, body.product_id, body.name, body.price, body.quantity)
    else if (route === 'GET /cart/{id}') res = await getProduct(body.cart, request.path.id)
    else if (route === 'GET /cart') res = await queryProducts(body.cart)
    else if (route === 'DELETE /cart') res = await emptyCart(body.cart)
    else throw new Error(`Unknown request route: ${route}`)
    results.push(res)
  }
  const computeTime = Number((process.hrtime.bigint() - begin) / 1000n)
  return { result: results, measurement: { compute_time: computeTime, requests: results.length } }
}
