"""Periodic upkeep of jobs, and the self-test job kind used to check that workers run jobs."""

import time

from celery import shared_task
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from backoffice import jobs


@jobs.job_kind("backoffice.selftest", label=_("Self-test (changes nothing)"), chunk_size=100)
def selftest_item(job, item_id: str) -> None:
    """Touches nothing. ``params``: ``delay`` seconds per item, ``fail`` item ids to reject."""
    delay = float(job.params.get("delay", 0))
    if delay:
        time.sleep(delay)
    if item_id in {str(i) for i in job.params.get("fail", [])}:
        raise ValidationError(_("Item %(item)s was asked to fail.") % {"item": item_id})


@shared_task(name="backoffice.expire_job_result_files")
def expire_job_result_files() -> int:
    return jobs.expire_result_files()


@shared_task(name="backoffice.requeue_stalled_jobs")
def requeue_stalled_jobs() -> int:
    return jobs.requeue_stalled_jobs()
