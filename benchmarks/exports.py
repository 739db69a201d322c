"""``benchmark export``: the streaming exporter (``backoffice.exports``) against the stock
``ProductResource().export()``, each contender in a fresh process so its peak RSS is its own.

The suite makes sure the table holds ``rows`` products (seeding the missing ones, committed, and deleting them
afterwards), then exports CSV and XLSX of all of them, CSV of a tenth of them (so that "flat in N" can be read),
and the stock ``export()`` of ``min(rows, 50,000)`` as the baseline (per-row rate and peak RSS). Every contender
writes to a scratch file that is thrown away. XLSX is capped at the sheet's row limit.

When the database is an in-memory SQLite (the test suite's), a child process could not see it: the contenders
then run in this process, and their peak RSS is not reported.
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
import time
from pathlib import Path

from benchmarks import Result, suite

BASELINE_MAX = 50_000
SEED_START = 50_000_000  # seeded SKUs SKU-5xxxxxxx, out of the way of the demo data


def _vm_hwm_mb() -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _queryset(limit: int):
    from catalog.models import Product

    ids = Product.objects.order_by("pk").values_list("pk", flat=True)[limit - 1 : limit]
    last = list(ids)
    queryset = Product.objects.order_by("pk")
    return queryset.filter(pk__lte=last[0]) if last else queryset


def run_contender(name: str, limit: int, target: str) -> dict:
    """Export ``limit`` products with contender ``name`` into ``target``; returns seconds and rows."""
    from backoffice import exports
    from catalog.resources import ProductResource

    queryset = _queryset(limit)
    started = time.perf_counter()
    if name in ("csv", "xlsx"):
        resource = ProductResource()
        with open(target, "wb") as handle:
            written = exports.write(name, exports.iter_rows(resource, queryset, native=name == "xlsx"), handle)
    else:  # the stock path: a tablib Dataset of every row, then CSV text
        dataset = ProductResource().export(queryset=queryset)
        written = len(dataset)
        Path(target).write_text(dataset.csv, encoding="utf-8")
    return {"seconds": time.perf_counter() - started, "rows": written, "bytes": os.path.getsize(target)}


def _child(name: str, limit: int, target: str, database: dict, queue) -> None:
    import django
    from django.conf import settings

    django.setup()
    settings.DATABASES["default"].update(database)  # the parent's database (a test run's test database)
    from django.db import connections

    connections["default"].settings_dict.update(database)
    outcome = run_contender(name, limit, target)
    outcome["peak_rss_mb"] = _vm_hwm_mb()
    queue.put(outcome)


def _in_fresh_process(name: str, limit: int, target: str) -> dict:
    from django.db import connection

    database = {"NAME": connection.settings_dict["NAME"]}
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_child, args=(name, limit, target, database, queue))
    process.start()
    try:
        outcome = queue.get(timeout=3600)
    finally:
        process.join()
    if process.exitcode:
        raise RuntimeError(f"the {name} contender exited with {process.exitcode}")
    return outcome


def _in_memory_database() -> bool:
    from django.db import connection

    return connection.vendor == "sqlite" and connection.is_in_memory_db()


@suite("export", default_rows=1_000_000)
def export_suite(rows: int, stdout) -> list[Result]:
    from django.db import connection

    from backoffice.exports import XLSX_MAX_ROWS
    from catalog.models import Product
    from catalog.seeding import seed_products

    existing = Product.objects.count()
    seeded = 0
    if existing < rows:
        started = time.perf_counter()
        seeded = seed_products(rows - existing, seed=11, start=SEED_START)
        stdout.write(f"  seeded {seeded:,} products in {time.perf_counter() - started:.1f} s (deleted afterwards)")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    inline = _in_memory_database()
    run = (lambda name, limit, target: run_contender(name, limit, target)) if inline else _in_fresh_process
    stdout.write(
        f"  {rows:,} products; "
        + ("contenders in this process (in-memory database)" if inline else "one fresh process per contender")
    )
    base_rows = min(rows, BASELINE_MAX)
    small = max(1, rows // 10)
    contenders = [
        ("stock", base_rows, f"stock ProductResource().export() ({base_rows:,} rows, CSV)"),
        ("csv", small, f"ours: CSV streamed ({small:,} rows)"),
        ("csv", rows, f"ours: CSV streamed ({rows:,} rows)"),
        ("xlsx", min(rows, XLSX_MAX_ROWS - 1), f"ours: XLSX constant_memory ({min(rows, XLSX_MAX_ROWS - 1):,} rows)"),
    ]
    results = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-export-") as folder:
            for index, (name, limit, label) in enumerate(contenders):
                target = str(Path(folder) / f"{index}.{'csv' if name != 'xlsx' else 'xlsx'}")
                outcome = run(name, limit, target)
                rss = outcome.get("peak_rss_mb") if not inline else None
                results.append(
                    Result(
                        label,
                        outcome["seconds"],
                        outcome["rows"],
                        "rows",
                        peak_rss_mb=round(rss, 1) if rss else None,
                        baseline=contenders[0][2],
                        extra={"contender": name, "file_mb": round(outcome["bytes"] / 1e6, 1)},
                    )
                )
                Path(target).unlink(missing_ok=True)
    finally:
        if seeded:
            _delete_seeded()
    return results


def _delete_seeded() -> None:
    from django.db import connection, transaction

    from catalog.models import Product, StockMovement

    products = Product.all_objects.filter(sku__startswith="SKU-5")
    ids = products.values("pk")
    with transaction.atomic():
        StockMovement.objects.filter(product_id__in=ids)._raw_delete(connection.alias)
        Product.tags.through.objects.filter(product_id__in=ids)._raw_delete(connection.alias)
        products._raw_delete(connection.alias)
