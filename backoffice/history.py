"""History that names who made a change: the request user, or the Job that ran it.

Every business model declares ``history = HistoricalRecords(bases=[JobAwareHistory])`` (or uses
:func:`history_records`). Inside :func:`acting_as_job` every history row written is stamped
with the job and, unless a request user is known, the user who requested the job.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import models
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record

_current_job: ContextVar = ContextVar("backoffice_current_job", default=None)


class JobAwareHistory(models.Model):
    history_job = models.ForeignKey(
        "backoffice.Job",
        verbose_name=_("job"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_constraint=False,
        related_name="+",
    )

    class Meta:
        abstract = True


def history_records(**kwargs) -> HistoricalRecords:
    kwargs.setdefault("bases", [JobAwareHistory])
    return HistoricalRecords(**kwargs)


def current_job():
    return _current_job.get()


@contextmanager
def acting_as_job(job) -> Iterator[None]:
    token = _current_job.set(job)
    try:
        yield
    finally:
        _current_job.reset(token)


@receiver(pre_create_historical_record)
def _stamp_job(sender, instance, history_instance, **kwargs) -> None:
    job = _current_job.get()
    if job is None or not hasattr(history_instance, "history_job_id"):
        return
    history_instance.history_job_id = job.pk
    if history_instance.history_user_id is None and job.requested_by_id:
        history_instance.history_user_id = job.requested_by_id
    if not history_instance.history_change_reason:
        history_instance.history_change_reason = str(_("Job %(kind)s (%(id)s)") % {"kind": job.kind, "id": job.pk})
