"""Benchmark suites: each runs our code and its naive baseline on the same work, in one run.

A suite is a function ``(rows, stdout) -> list[Result]`` registered with :func:`suite`; apps add
theirs in their own ``benchmarks.py`` (catalog: admin, orders: orders, media_pipeline: images).
"""

import gc
import resource
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from unittest import mock

from django.db import connection, reset_queries, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext

suites: dict[str, Callable] = {}


def suite(name: str, *, default_rows: int):
    def register(func):
        func.default_rows = default_rows
        suites[name] = func
        return func

    return register


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


def peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux; it is the process peak, so compare runs in separate processes.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(func: Callable[[], None]) -> float:
    gc.collect()
    started = time.perf_counter()
    func()
    return time.perf_counter() - started


def count_queries(func: Callable[[], None]) -> int:
    reset_queries()
    with CaptureQueriesContext(connection) as captured:
        func()
    count = len(captured.captured_queries)
    reset_queries()
    return count


# --- jobs -----------------------------------------------------------------------------------


def _naive_job(job, item_ids, handler) -> None:
    """How a job is commonly written: one transaction and one progress write per item."""
    from backoffice.models import Job, JobItem

    for item in JobItem.objects.filter(job=job, item_id__in=item_ids):
        with transaction.atomic():
            handler(job, item.item_id)
            item.status = JobItem.Status.DONE
            item.attempts += 1
            item.save()
            Job.objects.filter(pk=job.pk).update(done=F("done") + 1)


@suite("jobs", default_rows=10_000)
def jobs_suite(rows: int, stdout) -> list[Result]:
    from backoffice import jobs
    from backoffice.models import Job

    spec = jobs.registry["backoffice.selftest"]

    def make_job(size=rows):
        # Stored but not dispatched: each contender then processes the same queued items itself.
        with mock.patch.object(jobs, "dispatch_chunks"):
            return jobs.start_job("backoffice.selftest", items=range(size))

    try:
        results = []
        naive_job = make_job()
        ids = list(naive_job.items.values_list("item_id", flat=True))
        seconds = timed(lambda: _naive_job(naive_job, ids, spec.handler))
        sample = make_job(200)
        queries = count_queries(lambda: _naive_job(sample, [str(i) for i in range(200)], spec.handler))
        results.append(Result("naive: transaction + progress write per item", seconds, rows, "items", queries, 200))

        ours = make_job()
        chunks = range((rows - 1) // spec.chunk_size + 1)
        seconds = timed(lambda: [jobs.process_chunk(str(ours.pk), chunk) for chunk in chunks])
        ours.refresh_from_db()
        assert ours.done == rows, "every item must be processed"
        small = make_job(200)
        queries = count_queries(lambda: [jobs.process_chunk(str(small.pk), c) for c in range(200 // spec.chunk_size)])
        results.append(Result("ours: chunked, savepoint per item", seconds, rows, "items", queries, 200))
        return results
    finally:
        Job.objects.filter(kind="backoffice.selftest").delete()
