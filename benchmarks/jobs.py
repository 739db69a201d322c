"""``benchmark jobs``: the bulk-job engine against the common way, one transaction and progress write per item."""

from __future__ import annotations

from unittest import mock

from django.db import transaction
from django.db.models import F

from backoffice import jobs
from backoffice.models import Job, JobItem
from benchmarks import Result, suite
from benchmarks.measure import count_queries, timed


def _naive_job(job, item_ids, handler) -> None:
    """How a job is commonly written: one transaction and one progress write per item."""
    for item in JobItem.objects.filter(job=job, item_id__in=item_ids):
        with transaction.atomic():
            handler(job, item.item_id)
            item.status = JobItem.Status.DONE
            item.attempts += 1
            item.save()
            Job.objects.filter(pk=job.pk).update(done=F("done") + 1)


@suite("jobs", default_rows=10_000)
def jobs_suite(rows: int, stdout) -> list[Result]:
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
