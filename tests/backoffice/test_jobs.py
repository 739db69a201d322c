import pytest
from django.core.exceptions import ValidationError
from kombu.exceptions import OperationalError as BrokerError

from backoffice import jobs
from backoffice.models import Job, JobItem

pytestmark = pytest.mark.django_db


def run(kind="backoffice.selftest", items=range(10), params=None, user=None, capture=None):
    with capture(execute=True):
        job = jobs.start_job(kind, items=items, params=params, user=user)
    job.refresh_from_db()
    return job


@pytest.fixture
def start(django_capture_on_commit_callbacks):
    def _start(**kwargs):
        return run(capture=django_capture_on_commit_callbacks, **kwargs)

    return _start


def test_job_runs_every_item_and_succeeds(start, superuser):
    job = start(items=range(250), user=superuser)
    assert (job.status, job.total, job.done, job.failed) == (Job.Status.SUCCEEDED, 250, 250, 0)
    assert job.requested_by == superuser
    assert job.started_at and job.finished_at and job.finished_at >= job.started_at
    assert set(JobItem.objects.filter(job=job).values_list("status", "attempts")) == {(JobItem.Status.DONE, 1)}
    # 250 items, 100 a chunk
    assert sorted(set(JobItem.objects.filter(job=job).values_list("chunk", flat=True))) == [0, 1, 2]


def test_duplicate_item_ids_are_processed_once(start):
    job = start(items=[1, 2, 2, "1", 3])
    assert (job.total, job.done) == (3, 3)


def test_item_failures_are_recorded_and_do_not_stop_the_rest(start):
    job = start(items=range(20), params={"fail": [3, 17]})
    assert (job.status, job.done, job.failed) == (Job.Status.PARTIAL, 18, 2)
    assert [e["item"] for e in job.errors] == ["3", "17"]
    assert job.errors[0]["error"] == "Item 3 was asked to fail."
    assert JobItem.objects.get(job=job, item_id="17").error == "Item 17 was asked to fail."


def test_error_list_is_bounded(start, settings):
    settings.JOB_MAX_ERRORS = 5
    job = start(items=range(30), params={"fail": list(range(30))})
    assert job.failed == 30
    assert len(job.errors) == 5


def test_unexpected_exception_fails_only_that_item(start, monkeypatch):
    handler = jobs.registry["backoffice.selftest"].handler

    def explode_on_two(job, item_id):
        if item_id == "2":
            raise RuntimeError("disk on fire")
        handler(job, item_id)

    monkeypatch.setitem(
        jobs.registry,
        "backoffice.selftest",
        jobs.registry["backoffice.selftest"].__class__(
            **{**jobs.registry["backoffice.selftest"].__dict__, "handler": explode_on_two}
        ),
    )
    job = start(items=range(5))
    assert (job.done, job.failed) == (4, 1)
    assert "RuntimeError: disk on fire" in job.errors[0]["error"]


def test_empty_job_finishes_at_once(start):
    job = start(items=[])
    assert (job.status, job.total) == (Job.Status.SUCCEEDED, 0)


def test_unknown_kind_is_a_clear_error():
    with pytest.raises(ValidationError, match="Unknown job kind"):
        jobs.start_job("nope.nothing", items=[1])
    assert not Job.objects.exists()


def test_nothing_is_dispatched_before_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = jobs.start_job("backoffice.selftest", items=range(3))
    assert len(callbacks) == 1
    job.refresh_from_db()
    assert (job.status, job.done) == (Job.Status.QUEUED, 0)


def test_broker_down_marks_job_failed_with_message(django_capture_on_commit_callbacks, monkeypatch):
    task = jobs.registry["backoffice.selftest"].task

    def broker_down(*args, **kwargs):
        raise BrokerError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(task, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.start_job("backoffice.selftest", items=range(3))
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert "broker is unreachable" in job.message
    assert JobItem.objects.filter(job=job, status=JobItem.Status.PENDING).count() == 3

    # Once the broker is back, retrying runs every item that never ran.
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.retry_job(job) == 3
    job.refresh_from_db()
    assert (job.status, job.done, job.message) == (Job.Status.SUCCEEDED, 3, "")


def test_cancel_stops_remaining_chunks(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = jobs.start_job("backoffice.selftest", items=range(300))
    assert jobs.cancel_job(job) is True
    for callback in callbacks:
        callback()
    job.refresh_from_db()
    assert (job.status, job.done) == (Job.Status.CANCELLED, 0)
    assert jobs.cancel_job(job) is False


def test_retry_reruns_only_failed_items(start, django_capture_on_commit_callbacks):
    job = start(items=range(10), params={"fail": [4]})
    assert job.failed == 1
    job.params = {}
    job.save(update_fields=["params"])
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.retry_job(job) == 1
    job.refresh_from_db()
    assert (job.status, job.done, job.failed, job.errors) == (Job.Status.SUCCEEDED, 10, 0, [])
    assert JobItem.objects.get(job=job, item_id="4").attempts == 2
    assert JobItem.objects.get(job=job, item_id="5").attempts == 1


def test_retry_refuses_a_running_job_or_one_without_failures(start, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        running = jobs.start_job("backoffice.selftest", items=range(3))
    with pytest.raises(ValidationError, match="still running"):
        jobs.retry_job(running)
    clean = start(items=range(3))
    with pytest.raises(ValidationError, match="no failed"):
        jobs.retry_job(clean)


def test_redelivered_chunk_does_not_process_items_twice(start):
    job = start(items=range(5))
    jobs.process_chunk(str(job.pk), 0)  # the broker delivers the same message again
    job.refresh_from_db()
    assert job.done == 5
    assert set(JobItem.objects.filter(job=job).values_list("attempts", flat=True)) == {1}


def test_chunk_for_a_deleted_job_is_dropped():
    jobs.process_chunk("00000000-0000-0000-0000-000000000000", 0)


def test_requeue_stalled_jobs(django_capture_on_commit_callbacks, settings):
    settings.JOB_STALLED_AFTER_SECONDS = 0
    with django_capture_on_commit_callbacks(execute=False):
        job = jobs.start_job("backoffice.selftest", items=range(3))  # its message was lost
    assert jobs.requeue_stalled_jobs() == 1
    job.refresh_from_db()
    assert (job.status, job.done) == (Job.Status.SUCCEEDED, 3)
    assert jobs.requeue_stalled_jobs() == 0


def test_expire_result_files(start, settings):
    from datetime import timedelta

    from django.core.files.base import ContentFile
    from django.utils import timezone

    job = start(items=[1])
    job.result_file.save("export.csv", ContentFile(b"a,b\n"), save=True)
    path = job.result_file.path
    Job.objects.filter(pk=job.pk).update(
        finished_at=timezone.now() - timedelta(days=settings.JOB_RESULT_RETENTION_DAYS + 1)
    )
    assert jobs.expire_result_files() == 1
    job.refresh_from_db()
    assert not job.result_file
    import os

    assert not os.path.exists(path)
