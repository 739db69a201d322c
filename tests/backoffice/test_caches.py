import pytest
from django.core.cache import caches
from django.test import override_settings
from redis.exceptions import ConnectionError as RedisConnectionError

# Port 1 on loopback: nothing listens, so every call fails fast. No service needed.
DEAD_REDIS = "redis://127.0.0.1:1/0"


def cache_settings(location):
    from django.conf import settings

    return {
        alias: {**settings.CACHES[alias], "BACKEND": "django_redis.cache.RedisCache", "LOCATION": location}
        | {"OPTIONS": {"IGNORE_EXCEPTIONS": alias == "default", "SOCKET_CONNECT_TIMEOUT": 1}}
        for alias in ("default", "locks")
    }


def test_default_cache_survives_redis_down_but_locks_fail_closed():
    with override_settings(CACHES=cache_settings(DEAD_REDIS)):
        caches["default"].set("k", "v")
        assert caches["default"].get("k") is None
        with pytest.raises(RedisConnectionError):
            caches["locks"].add("lock:k", "1", timeout=5)
        caches["default"].close()
        caches["locks"].close()


def test_real_redis_round_trip(settings, needs_redis):
    for alias in ("default", "locks"):
        cache = caches[alias]
        cache.set("round-trip", {"a": 1}, timeout=5)
        assert cache.get("round-trip") == {"a": 1}
        cache.delete("round-trip")
    assert caches["locks"].add("only-once", "1", timeout=5) is True
    assert caches["locks"].add("only-once", "1", timeout=5) is False
    caches["locks"].delete("only-once")
