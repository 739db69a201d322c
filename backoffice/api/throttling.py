"""Fixed-window rate limits: per integration key (or staff user), per client IP without one.

Counters live in the ``locks`` cache, which fails closed (Redis in services mode; local memory in the
embedded default). A cache error is a 503, never an unlimited pass. Every response carries
``RateLimit-Limit``, ``RateLimit-Remaining`` and ``RateLimit-Reset`` (seconds); a 429 also ``Retry-After``.
"""

from __future__ import annotations

import math
import time

from django.conf import settings
from django.core.cache import caches
from django.utils.translation import gettext as _
from rest_framework.throttling import BaseThrottle

from backoffice.api.problems import ApiError


class ApiRateThrottle(BaseThrottle):
    def allow_request(self, request, view) -> bool:
        from backoffice.api.auth import integration_key

        key = integration_key(request)
        user = request.user
        if key is not None:
            ident, limit = f"key:{key.pk}", key_limit()
        elif user is not None and user.is_authenticated:
            ident, limit = f"user:{user.pk}", key_limit()
        else:
            ident, limit = f"ip:{client_ip(request)}", settings.API_RATE_LIMIT_PER_IP
        window = settings.API_RATE_LIMIT_WINDOW_SECONDS
        now = time.time()
        start = int(now // window) * window
        reset = max(1, math.ceil(start + window - now))
        count = _increment(f"api-rl:{ident}:{start}", window)
        remaining = max(0, limit - count)
        request._request.rate_limit = (limit, remaining, reset)
        self.wait_seconds = reset
        return count <= limit

    def wait(self):
        return self.wait_seconds


def client_ip(request) -> str:
    """REMOTE_ADDR, or with ``API_TRUSTED_PROXY_COUNT`` proxies in front the address the outermost of them saw.
    (DRF's own get_ident trusts any X-Forwarded-For a client sends unless NUM_PROXIES is set.)"""
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.API_TRUSTED_PROXY_COUNT
    if proxies > 0:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if forwarded:
            return forwarded[-min(proxies, len(forwarded))][:64]
    return remote


def key_limit() -> int:
    return settings.API_RATE_LIMIT_PER_KEY


def _increment(cache_key: str, window: int) -> int:
    cache = caches["locks"]
    try:
        for _attempt in range(3):
            try:
                return cache.incr(cache_key)  # one round trip once the window's counter exists
            except ValueError:  # no counter yet for this window
                if cache.add(cache_key, 1, timeout=window + 5):
                    return 1
        return cache.incr(cache_key)
    except Exception as exc:
        raise ApiError(
            _("Rate limiting is unavailable; try again shortly."),
            status_code=503,
            slug="unavailable",
            headers={"Retry-After": "5"},
        ) from exc


def rate_limit_headers(request) -> dict:
    values = getattr(request, "rate_limit", None)
    if values is None:
        return {}
    limit, remaining, reset = values
    return {"RateLimit-Limit": str(limit), "RateLimit-Remaining": str(remaining), "RateLimit-Reset": str(reset)}
