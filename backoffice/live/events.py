"""What is pushed, and when: job progress and results, new orders, sidebar badges.

Each function is called by the code that changed the data (backoffice.jobs, orders.services, the
badge beat task) and publishes after commit."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from backoffice.live import EVENT, groups, notify, publish
from backoffice.live.publisher import first_in_window, send


def job_event(job) -> dict:
    return {
        "type": "job",
        "id": str(job.pk),
        "status": job.status,
        "status_display": str(job.get_status_display()),
        "active": job.is_active,
        "done": job.done,
        "failed": job.failed,
        "total": job.total,
        "percent": job.percent,
    }


def _send_job(job_id, *, final: bool) -> None:
    from backoffice.models import Job

    # At most 1 / LIVE_JOB_PROGRESS_INTERVAL events a second per job; the final state always goes.
    if not final and not first_in_window(f"job.{job_id}", settings.LIVE_JOB_PROGRESS_INTERVAL):
        return
    job = Job.objects.filter(pk=job_id).first()
    if job is not None:
        send(groups.JOBS, {"type": EVENT, "event": job_event(job)})


def job_progress(job_id, *, committed: bool = False) -> None:
    """Progress was recorded; ``committed`` when it was written outside the caller's transaction
    (a stream job's side connection), so it is visible already."""
    if committed:
        _send_job(job_id, final=False)
    else:
        transaction.on_commit(lambda: _send_job(job_id, final=False), robust=True)


def job_started(job_id) -> None:
    transaction.on_commit(lambda: push_badge("jobs"), robust=True)


def job_finished(job_id) -> None:
    """A job reached a final state: its page and the list get it, the running-jobs badge drops, and
    whoever started it is told (unless they cancelled it)."""
    transaction.on_commit(lambda: _job_finished(job_id), robust=True)


def _job_finished(job_id) -> None:
    from backoffice.models import Job

    _send_job(job_id, final=True)
    push_badge("jobs")
    job = Job.objects.select_related("requested_by").filter(pk=job_id).first()
    if job is None or job.requested_by is None or job.status == Job.Status.CANCELLED:
        return
    # The worker runs in the default language; the notification is stored in the requester's.
    with translation.override(job.language or settings.LANGUAGE_CODE):
        _notify_job_outcome(job)


def _notify_job_outcome(job) -> None:
    from backoffice.models import Job

    title, level = {
        Job.Status.SUCCEEDED: (_("%(kind)s completed"), "success"),
        Job.Status.PARTIAL: (_("%(kind)s completed, some items failed"), "warning"),
        Job.Status.FAILED: (_("%(kind)s did not complete"), "error"),
    }.get(job.status, (None, None))
    if title is None:
        return
    body = job.message or _("%(done)s done, %(failed)s failed of %(total)s.") % {
        "done": f"{job.done:,}",
        "failed": f"{job.failed:,}",
        "total": f"{job.total:,}",
    }
    notify(
        job.requested_by,
        title=title % {"kind": job.kind_label},
        body=body,
        url=reverse("admin:backoffice_job_change", args=[job.pk]),
        level=level,
    )


def order_created(order) -> None:
    """A new order: pages showing "N new orders" count it (no query here, the badge follows with
    the next badge push)."""
    publish(groups.ORDERS, {"type": "order.created", "id": str(order.pk), "number": order.number})


def push_badge(name: str) -> int:
    from backoffice.badges import BADGES, label

    badge = BADGES[name]
    count = badge.count()
    send(badge.group, _badge_message(badge, count, label))
    return count


def _badge_message(badge, count: int, label) -> dict:
    return {"type": EVENT, "event": {"type": "badge", "name": badge.name, "link": badge.link, "value": label(count)}}


def push_changed_badges(previous: dict[str, int] | None) -> dict[str, int]:
    """Count every badge (one query each) and push those that changed since ``previous``."""
    from backoffice.badges import BADGES, label

    counts = {}
    for name, badge in BADGES.items():
        counts[name] = badge.count()
        if previous is None or previous.get(name) != counts[name]:
            send(badge.group, _badge_message(badge, counts[name], label))
    return counts


def import_finished(batch, *, user) -> None:
    """An import applied in the request (a larger one is a Job and notifies when the Job ends)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return
    batch.refresh_from_db()
    url = reverse("admin:backoffice_importbatch_preview", args=[batch.pk])
    if batch.status == batch.Status.APPLIED:
        notify(
            user,
            title=_("Import completed"),
            body=_("%(new)s new, %(updated)s updated, %(unchanged)s unchanged.")
            % {"new": batch.new_rows, "updated": batch.updated_rows, "unchanged": batch.unchanged_rows},
            url=url,
            level="success",
        )
    else:
        notify(
            user, title=_("Import did not complete: nothing was written"), body=batch.message, url=url, level="error"
        )
