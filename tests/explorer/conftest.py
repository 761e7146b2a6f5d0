"""The explorer's tests share the API tests' client, keys and read-only insurer scenario."""

from tests.api.conftest import api, api_keys, insurer

__all__ = ["api", "api_keys", "insurer"]
