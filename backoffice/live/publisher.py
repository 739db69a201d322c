"""Sending to channel layer groups from sync code (web requests, Celery tasks, commands).

With the Redis pub/sub layer a group message is one ``PUBLISH <prefix>__group__<group> <msgpack>``,
so this module keeps one Redis client per process (a connection pool reused by every event, safe
across threads and re-created after a fork) and publishes in the layer's own format. The in-memory
layer (embedded default) only reaches sockets of this process: there ``async_to_sync`` hands the
message to the server's event loop.

A failed send is logged, never raised: a live update is a convenience, the page still polls."""

from __future__ import annotations

import logging
import threading
import time

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_client = None
_last_sent: dict[str, float] = {}


def _redis():
    global _client
    if _client is None:
        with _lock:
            if _client is None:
                import redis

                _client = redis.Redis.from_url(
                    settings.LIVE_REDIS_URL, socket_timeout=1, socket_connect_timeout=1, health_check_interval=30
                )
    return _client


def _uses_redis_pubsub(layer) -> bool:
    from channels_redis.pubsub import RedisPubSubChannelLayer

    return isinstance(layer, RedisPubSubChannelLayer)


def send(group: str, message: dict) -> bool:
    """Send ``message`` (a channel layer message with a ``type``) to ``group`` now."""
    layer = get_channel_layer()
    if layer is None:
        return False
    try:
        if _uses_redis_pubsub(layer):
            _redis().publish(f"{settings.LIVE_CHANNEL_PREFIX}__group__{group}", layer.serialize(message))
        else:
            async_to_sync(layer.group_send)(group, message)
    except Exception:  # Redis down or a layer error must not fail the work that published
        logger.warning("Live event to %s not sent", group, exc_info=True)
        return False
    return True


def first_in_window(key: str, seconds: float) -> bool:
    """True for the first call per ``key`` in each window of ``seconds``, across processes when Redis is
    there (one ``SET NX PX``), per process otherwise."""
    if settings.LIVE_REDIS_URL:
        try:
            return bool(_redis().set(f"live:window:{key}", 1, nx=True, px=max(1, int(seconds * 1000))))
        except Exception:  # without Redis the event is not sent anyway
            logger.warning("Live coalescing key %s not set", key, exc_info=True)
            return False
    now = time.monotonic()
    with _lock:
        if now - _last_sent.get(key, float("-inf")) < seconds:
            return False
        _last_sent[key] = now
        if len(_last_sent) > 10_000:  # keys of long-finished jobs
            for stale in [k for k, at in _last_sent.items() if now - at > 60]:
                del _last_sent[stale]
    return True
