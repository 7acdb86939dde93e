"""Stand-in for azure.cosmos (CosmosClient API subset), in memory."""
from . import exceptions

_DATA = {}


class ContainerProxy:
    def __init__(self, store, partition_key_field):
        self._store = store
        self._pk = partition_key_field

    def upsert_item(self, body, **kwargs):
        key = (repr(body[self._pk]), body["id"])
        self._store[key] = dict(body, _rid="r", _self="s", _etag='"e"', _attachments="a/", _ts=1)
        return self._store[key]

    def read_item(self, item, partition_key, **kwargs):
        key = (repr(partition_key), item)
        if key not in self._store:
            raise exceptions.CosmosResourceNotFoundError(status_code=404, message="NotFound")
        return dict(self._store[key])

    def query_items(self, query, parameters=None, partition_key=None, enable_cross_partition_query=None, **kwargs):
        assert query.strip().upper() == "SELECT * FROM C", query
        assert partition_key is not None, "single-partition queries only"
        return iter([dict(v) for (pk, _), v in self._store.items() if pk == repr(partition_key)])

    def delete_item(self, item, partition_key, **kwargs):
        key = (repr(partition_key), item)
        if key not in self._store:
            raise exceptions.CosmosResourceNotFoundError(status_code=404, message="NotFound")
        del self._store[key]


class DatabaseProxy:
    def __init__(self, name):
        self._name = name

    def get_container_client(self, container):
        # The tests register containers with their partition key field in _DATA.
        store, field = _DATA[(self._name, container)]
        return ContainerProxy(store, field)


class CosmosClient:
    def __init__(self, url, credential=None, **kwargs):
        assert url and credential, "url and credential are required"
        self.url = url

    def get_database_client(self, database):
        return DatabaseProxy(database)


def register_container(database, container, partition_key_field):
    _DATA[(database, container)] = ({}, partition_key_field)
