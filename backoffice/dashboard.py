"""Dashboard KPIs and sidebar badges. Each is one aggregate query."""

from datetime import timedelta

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backoffice.models import Job


def active_jobs_badge(request) -> str:
    if not request.user.has_perm("backoffice.view_job"):
        return ""
    count = Job.objects.active().count()
    return str(count) if count else ""


def job_kpis() -> list[dict]:
    since = timezone.now() - timedelta(hours=24)
    counts = Job.objects.aggregate(
        active=Count("pk", filter=Q(status__in=Job.ACTIVE_STATUSES)),
        finished=Count("pk", filter=Q(finished_at__gte=since, status=Job.Status.SUCCEEDED)),
        with_errors=Count("pk", filter=Q(finished_at__gte=since, status__in=[Job.Status.PARTIAL, Job.Status.FAILED])),
    )
    return [
        {"title": _("Jobs running or queued"), "value": counts["active"]},
        {"title": _("Jobs succeeded (24 h)"), "value": counts["finished"]},
        {"title": _("Jobs failed or with errors (24 h)"), "value": counts["with_errors"]},
    ]


def dashboard_callback(request, context: dict) -> dict:
    if request.user.has_perm("backoffice.view_job"):
        context["kpis"] = job_kpis()
        context["recent_jobs"] = list(Job.objects.select_related("requested_by")[:5])
    return context
