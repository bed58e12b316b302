"""Django's Redis cache with one redis.Redis client per connection pool.

Django's RedisCacheClient makes a new redis.Redis for every cache operation; redis-py 8 fills a table
of some 170 response callbacks in each one (~0.7 ms of CPU here, two operations per page: the
session and the page cache). A redis.Redis is safe to share between threads (it takes a connection
from its pool for each command), so one per pool is enough."""
from __future__ import annotations

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class SharedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = self._client(connection_pool=self._get_connection_pool(write))
        return client


class PortalRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = SharedClientRedisCacheClient
