"""NoSQL client for benchmark functions on DynamoDB-compatible stores.

SeBS's API: ``nosql.get_instance()`` with insert/get/update/query/delete; keys
are ``(name, value)`` tuples. The physical table comes from the environment
variable ``NOSQL_STORAGE_TABLE_<table>``; ``SEBS_NOSQL_*`` set the endpoint and
credentials (unset on AWS, where the function's role and region apply).
Numbers come back as int or float, not Decimal, so results serialise to JSON.
"""

import os
from decimal import Decimal

import boto3


def _to_dynamo(value):
    # The boto3 resource layer refuses floats (they would lose precision);
    # repr() is the shortest string that reads back as the same float.
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: _to_dynamo(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_dynamo(v) for v in value]
    return value


def _from_dynamo(value):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_dynamo(v) for v in value]
    if isinstance(value, set):
        return [_from_dynamo(v) for v in sorted(value, key=str)]
    return value


def _key(primary_key, secondary_key):
    key = {primary_key[0]: primary_key[1]}
    if secondary_key is not None:
        key[secondary_key[0]] = secondary_key[1]
    return key


class nosql:
    instance = None

    def __init__(self):
        env = os.environ
        kwargs = {"region_name": env.get("SEBS_NOSQL_REGION") or env.get("AWS_REGION") or "us-east-1"}
        if env.get("SEBS_NOSQL_ENDPOINT"):
            kwargs["endpoint_url"] = env["SEBS_NOSQL_ENDPOINT"]
        if env.get("SEBS_NOSQL_ACCESS_KEY") and env.get("SEBS_NOSQL_SECRET_KEY"):
            kwargs["aws_access_key_id"] = env["SEBS_NOSQL_ACCESS_KEY"]
            kwargs["aws_secret_access_key"] = env["SEBS_NOSQL_SECRET_KEY"]
        self.client = boto3.resource("dynamodb", **kwargs)
        self._tables = {}

    def _table(self, table):
        if table not in self._tables:
            name = os.environ.get(f"NOSQL_STORAGE_TABLE_{table}")
            if not name:
                raise RuntimeError(
                    f"NoSQL table '{table}' is unknown: the environment has no "
                    f"NOSQL_STORAGE_TABLE_{table} (is the table declared in allocateNosql()?)"
                )
            self._tables[table] = self.client.Table(name)
        return self._tables[table]

    def insert(self, table, primary_key, secondary_key, data):
        """Stores data plus both keys, replacing an item with the same keys."""
        item = dict(_to_dynamo(data))
        item.update(_key(primary_key, secondary_key))
        self._table(table).put_item(Item=item)

    def get(self, table, primary_key, secondary_key):
        """The item with these keys, or None when there is none."""
        res = self._table(table).get_item(Key=_key(primary_key, secondary_key), ConsistentRead=True)
        item = res.get("Item")
        return _from_dynamo(item) if item is not None else None

    def update(self, table, primary_key, secondary_key, updates):
        """Sets the given attributes of an existing (or new) item."""
        if not updates:
            return
        names, values, sets = {}, {}, []
        for i, (name, value) in enumerate(updates.items()):
            # Placeholders by index: attribute names may hold characters an expression cannot.
            names[f"#u{i}"] = name
            values[f":u{i}"] = _to_dynamo(value)
            sets.append(f"#u{i} = :u{i}")
        self._table(table).update_item(
            Key=_key(primary_key, secondary_key),
            UpdateExpression="SET " + ", ".join(sets),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    def query(self, table, primary_key, secondary_key_name=None):
        """Every item with this primary key, in sort-key order (all pages)."""
        items = []
        kwargs = {
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": primary_key[0]},
            "ExpressionAttributeValues": {":pk": primary_key[1]},
            "ConsistentRead": True,
        }
        while True:
            res = self._table(table).query(**kwargs)
            items.extend(_from_dynamo(item) for item in res.get("Items", []))
            last = res.get("LastEvaluatedKey")
            if not last:
                return items
            kwargs["ExclusiveStartKey"] = last

    def delete(self, table, primary_key, secondary_key):
        self._table(table).delete_item(Key=_key(primary_key, secondary_key))

    @staticmethod
    def get_instance():
        if nosql.instance is None:
            nosql.instance = nosql()
        return nosql.instance
