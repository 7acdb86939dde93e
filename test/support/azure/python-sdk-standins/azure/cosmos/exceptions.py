class CosmosHttpResponseError(Exception):
    def __init__(self, status_code=None, message=None, **kwargs):
        super().__init__(message)
        self.status_code = status_code


class CosmosResourceNotFoundError(CosmosHttpResponseError):
    pass
