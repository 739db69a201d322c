"""History that names who acted: a person, a Job, an integration key or an import batch.

Every business model declares ``history = history_records(...)``, whose historical model carries
``history_job``, ``history_api_key_id`` and ``history_import_batch_id`` beside simple-history's
``history_user``. Writers say who they act for once, around the work::

    with acting_as(user=request.user, api_key=key):
        services.update_product(product, price=...)

and every history row written inside (by a save signal or through :func:`bulk_history_kwargs` for
simple-history's bulk helpers) and every stock ledger row is stamped with it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace

from django.db import models
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record


@dataclass(frozen=True)
class Actor:
    user: object = None
    job: object = None
    api_key: object = None
    import_batch: object = None

    @property
    def acting_user(self):
        """The person to name: the user given, else the one who started the job."""
        if self.user is not None and getattr(self.user, "is_authenticated", False):
            return self.user
        if self.job is not None and self.job.requested_by_id:
            return self.job.requested_by
        return None

    @property
    def acting_user_id(self):
        if self.user is not None and getattr(self.user, "is_authenticated", False):
            return self.user.pk
        return self.job.requested_by_id if self.job is not None else None

    def historical_attrs(self) -> dict:
        """Values of the extra history columns (for ``custom_historical_attrs``)."""
        return {
            "history_job_id": _pk(self.job),
            "history_api_key_id": _pk(self.api_key),
            "history_import_batch_id": _pk(self.import_batch),
        }

    def change_reason(self) -> str:
        if self.import_batch is not None:
            return str(_("Import %(id)s") % {"id": _pk(self.import_batch)})
        if self.api_key is not None:
            return str(_("API key %(name)s") % {"name": getattr(self.api_key, "name", _pk(self.api_key))})
        if self.job is not None:
            return str(_("Job %(kind)s (%(id)s)") % {"kind": self.job.kind, "id": self.job.pk})
        return ""


_NOBODY = Actor()
_actor: ContextVar[Actor] = ContextVar("backoffice_actor", default=_NOBODY)


def _pk(obj):
    return getattr(obj, "pk", obj)


def current_actor() -> Actor:
    return _actor.get()


def current_job():
    return _actor.get().job


@contextmanager
def acting_as(*, user=None, job=None, api_key=None, import_batch=None) -> Iterator[Actor]:
    """Name who acts for every history and ledger row written inside. Nested calls add to the outer
    actor (a job started by an import keeps naming the import)."""
    outer = _actor.get()
    given = {"user": user, "job": job, "api_key": api_key, "import_batch": import_batch}
    actor = replace(outer, **{name: value for name, value in given.items() if value is not None})
    token = _actor.set(actor)
    try:
        yield actor
    finally:
        _actor.reset(token)


def acting_as_job(job):
    return acting_as(job=job)


def bulk_history_kwargs(*, user=None) -> dict:
    """Keyword arguments for simple-history's ``bulk_create_with_history``/``bulk_update_with_history``,
    which skip the signal that stamps single saves."""
    actor = current_actor()
    if user is not None:
        actor = replace(actor, user=user)
    return {
        "default_user": actor.acting_user,
        "default_change_reason": actor.change_reason() or None,
        "custom_historical_attrs": actor.historical_attrs(),
    }


class ActorHistory(models.Model):
    """The extra columns of every historical model. The key and batch columns hold ids; their models
    live in the API and import modules, which may be deleted or purged independently of the history."""

    history_job = models.ForeignKey(
        "backoffice.Job",
        verbose_name=_("job"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_constraint=False,
        related_name="+",
    )
    history_api_key_id = models.UUIDField(_("integration key"), null=True, blank=True, db_index=True)
    history_import_batch_id = models.UUIDField(_("import batch"), null=True, blank=True, db_index=True)

    class Meta:
        abstract = True


def history_records(**kwargs) -> HistoricalRecords:
    kwargs.setdefault("bases", [ActorHistory])
    return HistoricalRecords(**kwargs)


@receiver(pre_create_historical_record)
def _stamp_actor(sender, instance, history_instance, **kwargs) -> None:
    actor = _actor.get()
    if actor is _NOBODY or not hasattr(history_instance, "history_job_id"):
        return
    for name, value in actor.historical_attrs().items():
        if value is not None:
            setattr(history_instance, name, value)
    if history_instance.history_user_id is None and actor.acting_user_id is not None:
        history_instance.history_user_id = actor.acting_user_id
    if not history_instance.history_change_reason:
        history_instance.history_change_reason = actor.change_reason() or None
