"""The bell's JSON endpoints (staff only; POSTs need the CSRF token) and the admin script's URL."""

from __future__ import annotations

import uuid
from functools import wraps

from django.http import JsonResponse
from django.templatetags.static import static
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from backoffice.live.models import Notification

LATEST = 20


def script_url(request) -> str:
    """UNFOLD["SCRIPTS"]: the live script on every admin page (it stays idle without the bell)."""
    return static("backoffice/js/live.js")


def staff_json(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not (user.is_authenticated and user.is_active and user.is_staff):
            return JsonResponse({"detail": _("Sign in to the back office first.")}, status=403)
        return view(request, *args, **kwargs)

    return never_cache(wrapper)


@require_GET
@staff_json
def notification_list(request):
    mine = Notification.objects.for_user(request.user)
    return JsonResponse(
        {
            "unread": mine.unread().count(),
            "notifications": [n.as_event() for n in mine.order_by("-created_at")[:LATEST]],
        }
    )


@require_POST
@staff_json
def mark_read(request, notification_id: str):
    try:
        pk = uuid.UUID(notification_id)
    except ValueError:
        pk = None
    mine = Notification.objects.for_user(request.user)
    if pk is None or not mine.filter(pk=pk).exists():
        return JsonResponse({"detail": _("No such notification.")}, status=404)
    mine.filter(pk=pk).mark_read()
    return JsonResponse({"unread": mine.unread().count()})


@require_POST
@staff_json
def mark_all_read(request):
    marked = Notification.objects.for_user(request.user).mark_read()
    return JsonResponse({"unread": 0, "marked": marked})
