"""A real Celery worker against PostgreSQL and Redis: jobs complete, and survive a killed worker."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from backoffice import jobs
from backoffice.models import Job, JobItem

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.services, pytest.mark.timeout(240)]


def database_url() -> str:
    s = connection.settings_dict  # NAME is the test database while tests run
    password = f":{s['PASSWORD']}" if s["PASSWORD"] else ""
    return f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class Worker:
    def __init__(self, name: str, **env):
        self.log = Path(os.environ.get("TMPDIR", "/tmp")) / f"backoffice-worker-{name}-{os.getpid()}.log"
        environment = {**os.environ, "DATABASE_URL": database_url(), **env}
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "backoffice",
                "worker",
                "--loglevel",
                "WARNING",
                "--concurrency",
                "2",
                "--pool",
                "prefork",
                "--hostname",
                f"{name}-{os.getpid()}@%h",
                "--without-mingle",
                "--without-gossip",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=environment,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so a kill takes the pool children too
        )

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        return self.log.read_text() if self.log.exists() else ""


@pytest.fixture
def broker(needs_postgres, needs_redis, transactional_db):
    """Dispatch through the real Redis broker instead of in-process."""
    from backoffice.celery import app

    app.conf.task_always_eager = False
    workers: list[Worker] = []
    yield workers
    for worker in workers:
        worker.stop()


def wait_for(job: Job, predicate, timeout: float, workers) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if predicate(job):
            return job
        time.sleep(0.2)
    logs = "\n".join(w.output()[-3000:] for w in workers)
    pytest.fail(f"job did not get there in {timeout}s: {job.status} {job.done}/{job.total}\n{logs}")


def test_worker_completes_a_job_of_10000_items(broker):
    broker.append(Worker("bulk"))
    job = jobs.start_job("backoffice.selftest", items=range(10_000))
    job = wait_for(job, lambda j: not j.is_active, 180, broker)
    assert job.status == Job.Status.SUCCEEDED
    assert job.done == job.total == 10_000
    assert job.failed == 0
    assert not JobItem.objects.filter(job=job).exclude(status=JobItem.Status.DONE).exists()


def test_killed_worker_job_finishes_with_every_item_once(broker):
    # A short visibility timeout so the dead worker's unacked chunks come back within the test;
    # time limits shrink with it, as settings require.
    fast_redelivery = {
        "CELERY_BROKER_VISIBILITY_TIMEOUT": "8",
        "CELERY_TASK_TIME_LIMIT": "6",
        "CELERY_TASK_SOFT_TIME_LIMIT": "5",
    }
    first = Worker("doomed", **fast_redelivery)
    broker.append(first)
    # 20 ms an item, 100 items a chunk: each chunk takes ~2 s, so the kill lands mid-chunk.
    job = jobs.start_job("backoffice.selftest", items=range(1_000), params={"delay": 0.02})
    wait_for(job, lambda j: j.done >= 200, 60, broker)
    first.kill()
    job.refresh_from_db()
    done_at_kill = job.done
    assert done_at_kill < job.total

    broker.append(Worker("rescuer", **fast_redelivery))
    job = wait_for(job, lambda j: not j.is_active, 120, broker)
    assert job.status == Job.Status.SUCCEEDED, job.errors
    assert job.done == job.total == 1_000
    items = JobItem.objects.filter(job=job)
    assert items.filter(status=JobItem.Status.DONE).count() == 1_000
    # Work of the chunks in flight at the kill was rolled back and redone: each item ran once.
    assert set(items.values_list("attempts", flat=True)) == {1}
