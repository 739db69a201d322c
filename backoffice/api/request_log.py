"""The API request log: each ``/api/`` answer becomes an ``ApiRequest`` row, written off the request path.

A request only appends a tuple to an in-process buffer (a lock and a deque append, a few µs). The rows reach
the database in bulk (one ``bulk_create``):

- from a background thread of the serving process, woken when ``API_REQUEST_LOG_BATCH_SIZE`` rows are waiting
  and otherwise every ``API_REQUEST_LOG_FLUSH_SECONDS`` (``API_REQUEST_LOG_BACKGROUND``, the default);
- without that thread (tests, or a server that forbids threads), after the response has been sent
  (``request_finished``) once the batch is full or the interval has passed, so at most one request in a batch
  pays for the write, after its client has its answer;
- at process exit (``atexit``), and whenever :func:`flush` is called (tests, the benchmark).

So a GET never writes to the database while it is being answered, which on SQLite would queue behind every
other writer. Each process (a forked worker included) has its own buffer and thread; a child drops what it
inherited from its parent, which the parent still owns and writes. The buffer is bounded
(``API_REQUEST_LOG_BUFFER_MAX``): when the database cannot keep up, the oldest rows are dropped and counted
(:func:`stats`, and a warning at the next flush) rather than the process growing without bound. A flush that
fails (the database away) drops its batch with a warning: the log is an aid, never a reason to fail a request.
"""

from __future__ import annotations

import atexit
import collections
import logging
import os
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.core.signals import request_finished
from django.db import DatabaseError, close_old_connections, connections, transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

PATH_MAX = 500
IDEMPOTENCY_KEY_MAX = 255
PRUNE_BATCH = 10_000


class RequestLogBuffer:
    """Rows waiting to be written, as tuples ``(key_id, method, path, status, latency_ms, idempotency_key,
    request_id, created_at)``."""

    def __init__(self):
        self._reset()

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._rows: collections.deque = collections.deque()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self._last_flush = time.monotonic()
        self.dropped = 0
        self._dropped_reported = 0
        self.written = 0

    def __len__(self) -> int:
        return len(self._rows)

    def add(self, row: tuple) -> None:
        if self._pid != os.getpid():  # forked: the parent's rows and thread are the parent's
            self._reset()
        capacity = max(1, settings.API_REQUEST_LOG_BUFFER_MAX)
        with self._lock:
            while len(self._rows) >= capacity:
                self._rows.popleft()
                self.dropped += 1
            self._rows.append(row)
            waiting = len(self._rows)
        if settings.API_REQUEST_LOG_BACKGROUND:
            self._ensure_thread()
            if waiting >= settings.API_REQUEST_LOG_BATCH_SIZE:
                self._wake.set()

    def due(self) -> bool:
        if not self._rows:
            return False
        return (
            len(self._rows) >= settings.API_REQUEST_LOG_BATCH_SIZE
            or time.monotonic() - self._last_flush >= settings.API_REQUEST_LOG_FLUSH_SECONDS
        )

    def take(self) -> list[tuple]:
        with self._lock:
            rows = list(self._rows)
            self._rows.clear()
            self._last_flush = time.monotonic()
        return rows

    def flush(self) -> int:
        """Write every waiting row in one ``bulk_create``; returns how many were written."""
        from backoffice.api.models import ApiRequest

        rows = self.take()
        if self.dropped != self._dropped_reported:
            logger.warning(
                "API request log: %d rows dropped so far in this process (buffer full or database away).",
                self.dropped,
            )
            self._dropped_reported = self.dropped
        if not rows:
            return 0
        try:
            # A savepoint when called inside a transaction (tests): a failed insert must not break the caller's.
            with transaction.atomic():
                ApiRequest.objects.bulk_create(
                    [
                        ApiRequest(
                            key_id=key_id,
                            method=method,
                            path=path,
                            status=status,
                            latency_ms=latency_ms,
                            idempotency_key=idempotency_key,
                            request_id=request_id,
                            created_at=created_at,
                        )
                        for key_id, method, path, status, latency_ms, idempotency_key, request_id, created_at in rows
                    ],
                    batch_size=1000,
                )
        except DatabaseError:
            self.dropped += len(rows)
            logger.warning("API request log: writing %d rows failed; they are dropped.", len(rows), exc_info=True)
            return 0
        self.written += len(rows)
        return len(rows)

    # --- the background writer ---

    def _ensure_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(target=self._run, name="api-request-log", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            self._wake.wait(timeout=settings.API_REQUEST_LOG_FLUSH_SECONDS)
            self._wake.clear()
            if not self._rows:
                continue
            close_old_connections()
            try:
                self.flush()
            finally:
                # This thread's own connection; closed so it never outlives a database restart or holds a
                # SQLite file open between flushes.
                connections.close_all()


buffer = RequestLogBuffer()


def enabled() -> bool:
    return settings.API_REQUEST_LOG_ENABLED


def record(request, response, started: float) -> None:
    """Queue the log row of one answered API request (the middleware calls this)."""
    key = getattr(request, "integration_key", None)
    buffer.add(
        (
            key.pk if key is not None else None,
            _text(request.method, 10),
            _text(request.path, PATH_MAX),
            response.status_code,
            round((time.perf_counter() - started) * 1000, 3),
            _text(request.headers.get("Idempotency-Key", ""), IDEMPOTENCY_KEY_MAX),
            getattr(request, "request_id", ""),
            timezone.now(),
        )
    )


def _text(value: str, limit: int) -> str:
    # PostgreSQL refuses NUL in text, and a hostile path may carry one.
    value = value[:limit]
    return value.replace("\x00", "\ufffd") if "\x00" in value else value


def flush() -> int:
    return buffer.flush()


def discard() -> None:
    """Forget every waiting row and the counters (tests: nothing of one test reaches another, or the database
    at exit)."""
    buffer._reset()


def stats() -> dict:
    return {"waiting": len(buffer), "dropped": buffer.dropped, "written": buffer.written}


def _flush_after_response(sender=None, **kwargs) -> None:
    # Without the background thread, whoever finishes a request once a batch is due writes it, after its
    # client has been answered (request_finished runs when the response is closed).
    if settings.API_REQUEST_LOG_BACKGROUND or not buffer.due():
        return
    buffer.flush()


def _flush_at_exit() -> None:
    if len(buffer) and buffer._pid == os.getpid():
        try:
            buffer.flush()
        except Exception:  # the interpreter is going away; nothing else can be done
            logger.warning("API request log: the flush at exit failed.", exc_info=True)


request_finished.connect(_flush_after_response, dispatch_uid="api-request-log-flush")
atexit.register(_flush_at_exit)


def prune(*, now=None) -> int:
    """Delete rows older than ``API_REQUEST_LOG_RETENTION_DAYS``, a batch at a time (short write locks)."""
    from backoffice.api.models import ApiRequest

    cutoff = (now or timezone.now()) - timedelta(days=settings.API_REQUEST_LOG_RETENTION_DAYS)
    deleted = 0
    while True:
        ids = list(
            ApiRequest.objects.filter(created_at__lt=cutoff).order_by().values_list("id", flat=True)[:PRUNE_BATCH]
        )
        if not ids:
            return deleted
        deleted += ApiRequest.objects.filter(id__in=ids).delete()[0]
