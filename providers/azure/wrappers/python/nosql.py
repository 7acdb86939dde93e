"""SeBS's function-side NoSQL API on Azure Cosmos DB (NoSQL API).

``nosql.get_instance()`` with insert/get/update/query/delete; keys are
``(name, value)`` tuples.

Mapping (SeBS's): a table is a Cosmos container whose partition key is the
primary key's attribute; the secondary key's value is stored as the item's
``id``. Items come back like the DynamoDB module returns them: the data plus
both keys under their own names, without Cosmos's system fields.

Configuration (app settings): NOSQL_STORAGE_TABLE_<table> (container name),
NOSQL_STORAGE_DATABASE (default sebs-benchmarks), the account endpoint in
NOSQL_STORAGE_URL or SEBS_NOSQL_ENDPOINT and its key in NOSQL_STORAGE_CREDS
or SEBS_NOSQL_SECRET_KEY.
"""
import os

from azure.cosmos import CosmosClient
from azure.cosmos.exceptions import CosmosResourceNotFoundError

_SYSTEM_FIELDS = ("_rid", "_self", "_etag", "_attachments", "_ts", "_lsn")


def _id_of(primary_key, secondary_key):
    # Cosmos needs an id; a table without a secondary key keys items by the primary key alone.
    return str(secondary_key[1] if secondary_key else primary_key[1])


def _to_item(resource, primary_key_name, secondary_key_name):
    """A stored item as the API returns it: data plus both keys under their names; id only when a key is called that."""
    if resource is None:
        return None
    item = dict(resource)
    for field in _SYSTEM_FIELDS:
        item.pop(field, None)
    if secondary_key_name and secondary_key_name not in item:
        item[secondary_key_name] = item.get("id")
    if primary_key_name != "id" and secondary_key_name != "id":
        item.pop("id", None)
    return item


class nosql:
    instance = None

    def __init__(self):
        env = os.environ
        endpoint = env.get("NOSQL_STORAGE_URL") or env.get("SEBS_NOSQL_ENDPOINT")
        key = env.get("NOSQL_STORAGE_CREDS") or env.get("SEBS_NOSQL_SECRET_KEY")
        if not endpoint or not key:
            raise RuntimeError(
                "nosql: the Cosmos DB endpoint and key are not set "
                "(NOSQL_STORAGE_URL / NOSQL_STORAGE_CREDS or SEBS_NOSQL_ENDPOINT / SEBS_NOSQL_SECRET_KEY)"
            )
        self.client = CosmosClient(endpoint, credential=key)
        self.database = self.client.get_database_client(env.get("NOSQL_STORAGE_DATABASE") or "sebs-benchmarks")
        self._containers = {}

    def _table(self, table):
        if table not in self._containers:
            name = os.environ.get("NOSQL_STORAGE_TABLE_" + table)
            if not name:
                raise RuntimeError(
                    "NoSQL table '%s' is unknown: the environment has no NOSQL_STORAGE_TABLE_%s "
                    "(is the table declared in allocate_nosql()?)" % (table, table)
                )
            self._containers[table] = self.database.get_container_client(name)
        return self._containers[table]

    def insert(self, table, primary_key, secondary_key, data):
        """Stores data plus both keys, replacing an item with the same keys."""
        item = dict(data)
        item[primary_key[0]] = primary_key[1]
        item["id"] = _id_of(primary_key, secondary_key)
        if secondary_key and secondary_key[0] != "id":
            item[secondary_key[0]] = secondary_key[1]
        self._table(table).upsert_item(item)

    def get(self, table, primary_key, secondary_key):
        """The item with these keys, or None when there is none."""
        try:
            resource = self._table(table).read_item(item=_id_of(primary_key, secondary_key), partition_key=primary_key[1])
        except CosmosResourceNotFoundError:
            return None
        return _to_item(resource, primary_key[0], secondary_key[0] if secondary_key else None)

    def update(self, table, primary_key, secondary_key, updates):
        """Sets the given attributes of an existing (or new) item."""
        merged = dict(self.get(table, primary_key, secondary_key) or {})
        merged.update(updates)
        self.insert(table, primary_key, secondary_key, merged)

    def query(self, table, primary_key, secondary_key_name):
        """Every item with this primary key (one partition), ordered by the secondary key."""
        resources = self._table(table).query_items("SELECT * FROM c", partition_key=primary_key[1])
        items = [_to_item(r, primary_key[0], secondary_key_name) for r in resources]
        key = secondary_key_name or "id"
        return sorted(items, key=lambda item: str(item.get(key)))

    def delete(self, table, primary_key, secondary_key):
        try:
            self._table(table).delete_item(item=_id_of(primary_key, secondary_key), partition_key=primary_key[1])
        except CosmosResourceNotFoundError:
            # DynamoDB's DeleteItem of a missing item succeeds; keep that behaviour.
            pass

    @staticmethod
    def get_instance():
        if nosql.instance is None:
            nosql.instance = nosql()
        return nosql.instance
