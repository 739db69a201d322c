"""Measuring helpers shared by the suites: wall time, query counts, peak memory."""

from __future__ import annotations

import gc
import resource
import time
from collections.abc import Callable

from django.db import connection, reset_queries
from django.test.utils import CaptureQueriesContext


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
