"""Checks behind /healthz. Each answers (ok, detail) and never leaks a URL or a secret."""

import time
import uuid

from django.conf import settings
from django.core.cache import caches
from django.db import connection


def check_database() -> tuple[bool, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return True, connection.vendor


def check_cache(alias: str) -> tuple[bool, str]:
    cache = caches[alias]
    key = f"healthz:{uuid.uuid4().hex}"
    # The default alias swallows Redis errors, so a round trip is the only honest probe.
    cache.set(key, "1", timeout=10)
    ok = cache.get(key) == "1"
    cache.delete(key)
    return ok, cache.__class__.__name__ if ok else "no answer"


def check_broker() -> tuple[bool, str]:
    from backoffice.celery import app

    if app.conf.task_always_eager:
        return True, "in-process"
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return True, conn.transport.driver_type


CHECKS = {
    "database": check_database,
    "cache": lambda: check_cache("default"),
    "locks": lambda: check_cache("locks"),
    "broker": check_broker,
}


def run_checks() -> dict:
    results = {}
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            ok, detail = check()
        except Exception as exc:  # noqa: BLE001 - a failing dependency is a result, not a crash
            ok, detail = False, exc.__class__.__name__
        results[name] = {"ok": ok, "detail": detail, "ms": round((time.perf_counter() - started) * 1000, 1)}
    return {
        "status": "ok" if all(r["ok"] for r in results.values()) else "error",
        "environment": settings.BACKOFFICE_ENVIRONMENT,
        "checks": results,
    }
