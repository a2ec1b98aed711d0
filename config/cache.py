"""The cache on Redis, degrading instead of failing: with Redis unreachable every read is a
miss and every write is dropped, with a warning logged (at most once a minute). Throttling
and caching then behave as if they were switched off; the login throttle lives in the
database and is not affected. A Redis outage must not be an API outage."""

from __future__ import annotations

import functools
import logging
import time
from typing import Any

from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)

_last_warning = [0.0]


def _warn(operation: str, exc: Exception) -> None:
    now = time.monotonic()
    if now - _last_warning[0] >= 60:
        _last_warning[0] = now
        logger.warning("cache unavailable (%s: %s): carrying on without it", operation, type(exc).__name__)


def _degrading(name: str, fallback: Any) -> Any:
    method = getattr(RedisCache, name)

    @functools.wraps(method)
    def wrapper(self: RedisCache, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except Exception as exc:  # redis.ConnectionError, TimeoutError, ...: all one to a cache
            _warn(name, exc)
            value = fallback(*args, **kwargs) if callable(fallback) else fallback
            return value

    return wrapper


def _default(key: Any, default: Any = None, *args: Any, **kwargs: Any) -> Any:
    return default


def _incr(key: Any, delta: int = 1, *args: Any, **kwargs: Any) -> int:
    return delta


class DegradingRedisCache(RedisCache):
    get = _degrading("get", _default)
    set = _degrading("set", None)
    add = _degrading("add", True)  # "first to ask": without the cache, everyone is first
    delete = _degrading("delete", False)
    touch = _degrading("touch", False)
    incr = _degrading("incr", _incr)
    has_key = _degrading("has_key", False)
    get_many = _degrading("get_many", lambda *a, **k: {})
    set_many = _degrading("set_many", lambda *a, **k: [])
    delete_many = _degrading("delete_many", None)
    clear = _degrading("clear", False)
