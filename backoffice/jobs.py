"""Jobs: long work split into items, fanned out to Celery in chunks, with progress and errors.

A job *kind* is a handler for one item, registered with :func:`job_kind`::

    @job_kind("catalog.change_prices", label=_("Change prices"), chunk_size=200)
    def change_price(job: Job, item_id: str) -> None:
        ...  # raise ValidationError (or any error) to fail this item only

:func:`start_job` stores the Job and its items and, after commit, sends one message per chunk.
Each chunk runs in one transaction with a savepoint per item, and only touches items still
``pending``: a chunk redelivered after a worker died re-runs exactly the items whose work was
rolled back, so every item is processed once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, OperationalError, transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Coalesce, Now
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError as BrokerError

from backoffice import webhooks
from backoffice.history import acting_as_job
from backoffice.live import events as live_events
from backoffice.models import Job, JobItem

logger = logging.getLogger(__name__)

Handler = Callable[[Job, str], None]


class UnknownJobKind(ValidationError):
    pass


@dataclass(frozen=True)
class JobKind:
    name: str
    label: str
    handler: Handler
    chunk_size: int
    task: object = field(repr=False)
    stream: bool = False  # one task for the whole job (see stream_kind below), no items


registry: dict[str, JobKind] = {}


def job_kind(name: str, *, label, chunk_size: int = 100) -> Callable[[Handler], Handler]:
    """Register ``handler`` as the per-item work of job kind ``name``, with its own Celery task."""

    def register(handler: Handler) -> Handler:
        @shared_task(
            name=f"jobs.{name}",
            acks_late=True,
            reject_on_worker_lost=True,
            autoretry_for=(OperationalError,),
            retry_backoff=True,
            max_retries=5,
        )
        def run_chunk(job_id: str, chunk: int) -> None:
            process_chunk(job_id, chunk)

        registry[name] = JobKind(name=name, label=label, handler=handler, chunk_size=chunk_size, task=run_chunk)
        return handler

    return register


def start_job(kind: str, *, items: Iterable, params: dict | None = None, user=None) -> Job:
    """Save a Job for ``items`` (ids; duplicates are dropped) and dispatch its chunks after commit."""
    spec = registry.get(kind)
    if spec is None or spec.stream:
        raise UnknownJobKind(_("Unknown job kind: %(kind)s.") % {"kind": kind})
    item_ids = list(dict.fromkeys(str(item) for item in items))
    with transaction.atomic():
        job = Job.objects.create(
            kind=kind,
            total=len(item_ids),
            params=params or {},
            requested_by=user if user is not None and user.is_authenticated else None,
            language=translation.get_language() or "",
        )
        JobItem.objects.bulk_create(
            (
                JobItem(job=job, chunk=index // spec.chunk_size, item_id=item_id)
                for index, item_id in enumerate(item_ids)
            ),
            batch_size=2000,
        )
        if not item_ids:
            _finish_if_complete(job.pk)
        else:
            chunks = range((len(item_ids) - 1) // spec.chunk_size + 1)
            transaction.on_commit(lambda: dispatch_chunks(job.pk, chunks))
    job.refresh_from_db()
    return job


def dispatch_chunks(job_id, chunks: Iterable[int]) -> bool:
    """Send one message per chunk. A broker failure marks the job failed with a clear message."""
    job = Job.objects.get(pk=job_id)
    task = registry[job.kind].task
    try:
        for chunk in chunks:
            task.apply_async(args=[str(job.pk), chunk])
    except (BrokerError, OSError) as exc:
        logger.exception("Could not dispatch job %s", job.pk)
        Job.objects.filter(pk=job.pk, status__in=Job.ACTIVE_STATUSES).update(
            status=Job.Status.FAILED,
            finished_at=timezone.now(),
            message=_(
                "The job could not be queued because the task broker is unreachable (%(error)s). "
                "Nothing was lost: retry the job once the broker is back."
            )
            % {"error": exc.__class__.__name__},
        )
        live_events.job_finished(job.pk)
        return False
    live_events.job_started(job.pk)
    return True


def process_chunk(job_id: str, chunk: int) -> None:
    job = Job.objects.select_related("requested_by").filter(pk=job_id).first()
    if job is None:
        logger.warning("Job %s no longer exists; chunk %s dropped", job_id, chunk)
        return
    if job.status not in Job.ACTIVE_STATUSES:
        return
    Job.objects.filter(pk=job.pk, status=Job.Status.QUEUED).update(
        status=Job.Status.RUNNING, started_at=Coalesce(F("started_at"), Now())
    )
    handler = registry[job.kind].handler
    # Webhook events of the chunk's items go into the outbox in one INSERT; a failed item's are dropped.
    with transaction.atomic(), acting_as_job(job), webhooks.collecting() as outbox:
        # Lock this chunk's pending items: a duplicate delivery running at the same time waits,
        # then finds them processed.
        items = list(
            JobItem.objects.select_for_update()
            .filter(job_id=job.pk, chunk=chunk, status=JobItem.Status.PENDING)
            .order_by("pk")
        )
        if not items:
            return
        succeeded, errors = [], []
        for item in items:
            try:
                with transaction.atomic(), outbox.item():
                    handler(job, item.item_id)
            except OperationalError:
                raise  # transient (connection lost, lock timeout): the whole chunk is retried
            except Exception as exc:  # one bad item must not stop the rest
                errors.append({"pk": item.pk, "item": item.item_id, "error": _error_message(exc)})
                if not isinstance(exc, ValidationError):
                    logger.exception("Job %s item %s failed", job.pk, item.item_id)
            else:
                succeeded.append(item.pk)
        _record_items(succeeded, errors)
        errors = [{"item": e["item"], "error": e["error"]} for e in errors]
        _record_progress(job.pk, done=len(items) - len(errors), errors=errors)
    _finish_if_complete(job.pk)


def _record_items(succeeded: list[int], errors: list[dict]) -> None:
    # One statement for the successes; failures (rare) carry their own message.
    now = timezone.now()
    JobItem.objects.filter(pk__in=succeeded).update(
        status=JobItem.Status.DONE, error="", attempts=F("attempts") + 1, processed_at=now
    )
    for error in errors:
        JobItem.objects.filter(pk=error["pk"]).update(
            status=JobItem.Status.FAILED, error=error["error"], attempts=F("attempts") + 1, processed_at=now
        )


def _error_message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(str(message) for message in exc.messages)
    return _("Unexpected error: %(error)s") % {"error": f"{exc.__class__.__name__}: {exc}"[:500]}


def _record_progress(job_id, *, done: int, errors: list[dict]) -> None:
    # Counters move with F() so concurrent chunks never lose an update; the bounded error
    # list needs the row lock, which is held only for this one short statement pair.
    if errors:
        job = Job.objects.select_for_update().only("errors").get(pk=job_id)
        room = max(0, settings.JOB_MAX_ERRORS - len(job.errors))
        Job.objects.filter(pk=job_id).update(
            done=F("done") + done,
            failed=F("failed") + len(errors),
            errors=job.errors + errors[:room],
            updated_at=timezone.now(),
        )
    else:
        Job.objects.filter(pk=job_id).update(done=F("done") + done, updated_at=timezone.now())
    live_events.job_progress(job_id)


def _finish_if_complete(job_id) -> None:
    finished = (
        Job.objects.filter(pk=job_id, status__in=Job.ACTIVE_STATUSES)
        .filter(Q(total__lte=F("done") + F("failed")))
        .update(
            status=Case(When(failed=0, then=Value(Job.Status.SUCCEEDED)), default=Value(Job.Status.PARTIAL)),
            started_at=Coalesce(F("started_at"), Now()),
            finished_at=timezone.now(),
            updated_at=timezone.now(),
        )
    )
    if finished:
        live_events.job_finished(job_id)


def cancel_job(job: Job) -> bool:
    """Stop a queued or running job: chunks not yet started skip their items. False if already over."""
    cancelled = Job.objects.filter(pk=job.pk, status__in=Job.ACTIVE_STATUSES).update(
        status=Job.Status.CANCELLED, finished_at=timezone.now(), updated_at=timezone.now()
    )
    job.refresh_from_db()
    if cancelled:
        live_events.job_finished(job.pk)
    return bool(cancelled)


def retry_job(job: Job) -> int:
    """Run a finished job's failed (and never processed) items again. Returns how many."""
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job.pk)
        if job.is_active:
            raise ValidationError(_("This job is still running; wait for it to finish before retrying it."))
        retry = JobItem.objects.filter(job=job).exclude(status=JobItem.Status.DONE)
        chunks = sorted(set(retry.values_list("chunk", flat=True)))
        if not chunks:
            raise ValidationError(_("This job has no failed or unprocessed items to retry."))
        count = retry.update(status=JobItem.Status.PENDING, error="")
        job.failed = 0
        job.errors = []
        job.message = ""
        job.status = Job.Status.QUEUED
        job.finished_at = None
        job.save(update_fields=["failed", "errors", "message", "status", "finished_at", "updated_at"])
        transaction.on_commit(lambda: dispatch_chunks(job.pk, chunks))
    return count


def requeue_stalled_jobs() -> int:
    """Dispatch again the pending chunks of jobs that made no progress for a long time."""
    cutoff = timezone.now() - timedelta(seconds=settings.JOB_STALLED_AFTER_SECONDS)
    requeued = 0
    for job in Job.objects.active().filter(updated_at__lt=cutoff).only("pk", "kind"):
        if job.kind not in registry or registry[job.kind].stream:
            continue  # a stream job has no chunks to dispatch again
        chunks = sorted(
            set(JobItem.objects.filter(job=job, status=JobItem.Status.PENDING).values_list("chunk", flat=True))
        )
        if chunks:
            Job.objects.filter(pk=job.pk).update(updated_at=timezone.now())
            dispatch_chunks(job.pk, chunks)
            requeued += 1
        else:
            _finish_if_complete(job.pk)
    return requeued


def expire_result_files() -> int:
    """Delete result files past their retention: export files after EXPORT_FILE_RETENTION_HOURS, the others
    after JOB_RESULT_RETENTION_DAYS."""
    now = timezone.now()
    cutoff = now - timedelta(days=settings.JOB_RESULT_RETENTION_DAYS)
    export_cutoff = now - timedelta(hours=settings.EXPORT_FILE_RETENTION_HOURS)
    expired = 0
    due = Q(finished_at__lt=cutoff) | Q(kind="backoffice.export", finished_at__lt=export_cutoff)
    for job in Job.objects.finished().filter(due).exclude(result_file=""):
        job.result_file.delete(save=False)
        Job.objects.filter(pk=job.pk).update(result_file="")
        expired += 1
    return expired


# --- one-stream jobs ----------------------------------------------------------------------------------------
#
# Work that is one stream rather than many items (an export writing a million rows into one file, an import
# validated or applied in one transaction) runs as one task. Its handler gets the Job and ``report(done)``,
# which records progress as rows processed (``done`` of ``total``); what it returns becomes ``job.result``,
# a ValidationError fails the job with its message. The Job page, its progress and its download are the same.

StreamHandler = Callable[[Job, Callable[[int], None]], dict | None]


def stream_kind(name: str, *, label) -> Callable[[StreamHandler], StreamHandler]:
    def register(handler: StreamHandler) -> StreamHandler:
        @shared_task(name=f"jobs.{name}", acks_late=True, reject_on_worker_lost=True)
        def run(job_id: str) -> None:
            run_stream(job_id)

        registry[name] = JobKind(name=name, label=label, handler=handler, chunk_size=0, task=run, stream=True)
        return handler

    return register


def start_stream_job(kind: str, *, total: int, params: dict | None = None, user=None) -> Job:
    spec = registry.get(kind)
    if spec is None or not spec.stream:
        raise UnknownJobKind(_("Unknown job kind: %(kind)s.") % {"kind": kind})
    job = Job.objects.create(
        kind=kind,
        total=max(0, int(total)),
        params=params or {},
        requested_by=user if user is not None and user.is_authenticated else None,
        language=translation.get_language() or "",
    )
    transaction.on_commit(lambda: _dispatch_stream(job.pk))
    return job


def _dispatch_stream(job_id) -> None:
    try:
        registry[Job.objects.only("kind").get(pk=job_id).kind].task.apply_async(args=[str(job_id)])
    except (BrokerError, OSError) as exc:
        logger.exception("Could not dispatch job %s", job_id)
        Job.objects.filter(pk=job_id, status__in=Job.ACTIVE_STATUSES).update(
            status=Job.Status.FAILED,
            finished_at=timezone.now(),
            message=_("The job could not be queued because the task broker is unreachable (%(error)s).")
            % {"error": exc.__class__.__name__},
        )
        live_events.job_finished(job_id)
    else:
        live_events.job_started(job_id)


def stream_reporter(job: Job) -> Callable[[int], None]:
    """``report(done)``: progress as rows written. Inside a transaction on PostgreSQL it writes through a
    connection of its own so the Job page sees it before the commit; SQLite has one writer at a time, so
    there progress inside a transaction is shown when it commits."""
    from django.db import connection, connections

    side = {}

    def report(done: int) -> None:
        done = max(0, min(int(done), job.total))
        if not connection.in_atomic_block:
            Job.objects.filter(pk=job.pk).update(done=done, updated_at=timezone.now())
            live_events.job_progress(job.pk)
            return
        if connection.vendor != "postgresql":
            return
        other = side.get("connection")
        try:
            if other is None:
                other = side["connection"] = connections.create_connection("default")
                with other.cursor() as cursor:
                    # Progress is best effort: never wait behind a lock on the Job row (the job's own
                    # transaction may hold one), whatever the process's statement_timeout.
                    cursor.execute("SET lock_timeout = '2s'")
            with other.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {Job._meta.db_table} SET done = %s, updated_at = %s WHERE id = %s",  # noqa: S608 - our table name
                    [done, timezone.now(), job.pk],
                )
            live_events.job_progress(job.pk, committed=True)  # written by the side connection: visible now
        except DatabaseError:
            logger.warning("Could not record the progress of job %s", job.pk, exc_info=True)

    def close():
        if side.get("connection") is not None:
            side["connection"].close()

    report.close = close
    return report


@contextmanager
def _job_statement_timeout():
    """On PostgreSQL a stream job runs under the Jobs' statement_timeout (DATABASE_JOB_STATEMENT_TIMEOUT_MS)
    even when it runs in a web process (tasks run eagerly when no broker is configured), whose own limit is
    meant for requests. The process's setting is restored afterwards."""
    from django.db import connection

    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        previous = cursor.fetchone()[0]
        cursor.execute(
            "SELECT set_config('statement_timeout', %s, false)",
            [f"{int(settings.DATABASE_JOB_STATEMENT_TIMEOUT_MS)}ms"],
        )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('statement_timeout', %s, false)", [previous])


def run_stream(job_id: str) -> None:
    job = Job.objects.select_related("requested_by").filter(pk=job_id).first()
    if job is None or job.status != Job.Status.QUEUED:
        return  # gone, cancelled, or already taken by another delivery
    if not Job.objects.filter(pk=job.pk, status=Job.Status.QUEUED).update(
        status=Job.Status.RUNNING, started_at=Now(), updated_at=timezone.now()
    ):
        return
    job.refresh_from_db()
    report = stream_reporter(job)
    try:
        with acting_as_job(job), _job_statement_timeout():
            result = registry[job.kind].handler(job, report)
    except ValidationError as exc:
        Job.objects.filter(pk=job.pk).update(
            status=Job.Status.FAILED,
            finished_at=timezone.now(),
            updated_at=timezone.now(),
            message="; ".join(str(m) for m in exc.messages)[:5000],
        )
    except Exception as exc:  # the job records any failure; the worker goes on
        logger.exception("Stream job %s failed", job.pk)
        Job.objects.filter(pk=job.pk).update(
            status=Job.Status.FAILED,
            finished_at=timezone.now(),
            updated_at=timezone.now(),
            message=_error_message(exc),
        )
    else:
        Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).update(
            status=Job.Status.SUCCEEDED,
            done=F("total"),
            result=result or {},
            finished_at=timezone.now(),
            updated_at=timezone.now(),
        )
    finally:
        report.close()
        live_events.job_finished(job.pk)
