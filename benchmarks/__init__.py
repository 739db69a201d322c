"""Benchmark suites for ``python manage.py benchmark SUITE``: our code and its naive baseline on the same work.

Not part of any app, and not shipped inside one. A suite is a function ``(rows, stdout) -> list[Result]``
registered with :func:`suite` in one module of this package:

- ``benchmarks.jobs``: the bulk-job engine (``backoffice.jobs``) against a transaction per item
- ``benchmarks.admin``: the Product changelist against a naive admin (a second admin site, its own URLconf)
- ``benchmarks.images``: the image pipeline against naive Pillow and pyvips, each in its own process
- ``benchmarks.orders``: concurrent order placement, and the Order changelist over a large table
- ``benchmarks.api``: the integration API against a stock ModelViewSet + ModelSerializer + PageNumberPagination
- ``benchmarks.imports``: a product import (preview + bulk apply) against django-import-export's row-by-row import
- ``benchmarks.exports``: the streaming CSV/XLSX exporter against ``ProductResource().export()``, each in its own
  process (peak RSS)
- ``benchmarks.webhooks``: events per second from the outbox to a local receiver with 1, 4 and 16 endpoints
- ``benchmarks.live``: one event fanned out to 1,000 WebSockets through uvicorn and the Redis layer, published by
  ``backoffice.live.publisher`` against the stock ``async_to_sync(group_send)``
- ``benchmarks.dashboard``: the dashboard's figures from the daily rollup against per-day queries over the orders

Suite modules are imported only by :func:`load_suites`: this package and ``benchmarks.images`` import no models,
since the images suite's child processes import them before ``django.setup()``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

SUITE_MODULES = ("jobs", "admin", "images", "orders", "api", "imports", "exports", "dashboard", "live", "webhooks")

suites: dict[str, Callable] = {}


def suite(name: str, *, default_rows: int):
    def register(func):
        func.default_rows = default_rows
        suites[name] = func
        return func

    return register


def load_suites() -> dict[str, Callable]:
    """Import every suite module (Django must be set up) and return the registry, by suite name."""
    for module in SUITE_MODULES:
        importlib.import_module(f"{__name__}.{module}")
    return suites


@dataclass
class Result:
    name: str
    seconds: float
    units: int
    unit: str
    queries: int | None = None
    queries_for: int | None = None  # queries are counted on a small sample of this many units
    peak_rss_mb: float | None = None
    extra: dict = field(default_factory=dict)
    baseline: str | None = None  # the result this one is compared with; the suite's first when None

    @property
    def per_second(self) -> float:
        return self.units / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict:
        return {**asdict(self), "per_second": round(self.per_second, 1)}
