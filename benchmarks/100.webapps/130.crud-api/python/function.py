"""130.crud-api, Python: a shopping-cart REST API on a NoSQL table (SeBS's
130.crud-api). The event is a list of requests, each a route plus a body;
the function answers them in order and returns one result per request."""

import time

from . import nosql

nosql_client = nosql.nosql.get_instance()

TABLE = "shopping_cart"


def add_product(cart_id, product_id, name, price, quantity):
    nosql_client.insert(
        TABLE,
        ("cart_id", cart_id),
        ("product_id", product_id),
        {"price": price, "quantity": quantity, "name": name},
    )
    return {}


def get_product(cart_id, product_id):
    return nosql_client.get(TABLE, ("cart_id", cart_id), ("product_id", product_id))


def query_products(cart_id):
    products = []
    total_cost = 0
    quantity = 0
    for item in nosql_client.query(TABLE, ("cart_id", cart_id), "product_id"):
        products.append(item["name"])
        total_cost += item["price"] * item["quantity"]
        quantity += item["quantity"]
    avg_price = total_cost / quantity if quantity > 0 else 0.0
    return {"products": products, "total_cost": total_cost, "avg_price": avg_price}


def empty_cart(cart_id):
    items = nosql_client.query(TABLE, ("cart_id", cart_id), "product_id")
    for item in items:
        nosql_client.delete(TABLE, ("cart_id", cart_id), ("product_id", item["product_id"]))
    return {"deleted": len(items)}


def handler(event):
    results = []
    begin = time.perf_counter()
    for request in event["requests"]:
        route = request["route"]
        body = request["body"]
        if route == "PUT /cart":
            res = add_product(body["cart"], body["product_id"], body["name"], body["price"], body["quantity"])
        elif route == "GET /cart/{id}":
            res = get_product(body["cart"], request["path"]["id"])
        elif route == "GET /cart":
            res = query_products(body["cart"])
        elif route == "DELETE /cart":
            res = empty_cart(body["cart"])
        else:
            raise RuntimeError(f"Unknown request route: {route}")
        results.append(res)
    compute_time = int((time.perf_counter() - begin) * 1_000_000)
    return {"result": results, "measurement": {"compute_time": compute_time, "requests": len(results)}}
