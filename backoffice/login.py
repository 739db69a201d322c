"""Login protection: who the client is, what a locked-out person sees, and unlocking.

django-axes counts failed admin logins in the database (``AxesDatabaseHandler``) and locks out a
username *from one address* (``AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]``): an attacker
behind an office NAT cannot lock everybody out, and guessing one password from many addresses is
slowed by each address's own count. The hooks it is configured with live here:

- ``client_ip``: the address a request comes from. ``REMOTE_ADDR``, unless ``TRUSTED_PROXY_COUNT``
  proxies in front of the app each append to ``TRUSTED_PROXY_HEADER``: then the address the outermost
  trusted proxy saw (counted from the right, so what a client writes into the header itself is never
  used). A header with fewer entries than proxies, or an entry that is not an address, is not trusted.
- ``lockout_response``: the Unfold login page with the reason and when to try again (HTTP 429).
- ``username_for_axes``: the username as typed, bounded to the column's length.
- ``unlock``: what the admin's Unlock does.
"""

from __future__ import annotations

import ipaddress
import logging
import math

from django.conf import settings
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

log = logging.getLogger(__name__)
USERNAME_MAX = 255  # axes' AccessAttempt.username


def _meta_key(header: str) -> str:
    return "HTTP_" + header.upper().replace("-", "_")


def _address(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request) -> str:
    remote = _address(request.META.get("REMOTE_ADDR", "")) or "0.0.0.0"  # noqa: S104 - a placeholder, never bound
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    hops = [hop for hop in request.META.get(_meta_key(settings.TRUSTED_PROXY_HEADER), "").split(",") if hop.strip()]
    if len(hops) < proxies:
        return remote  # the request did not come through every proxy: its header is the client's own
    return _address(hops[-proxies]) or remote


def username_for_axes(request, credentials) -> str | None:
    field = settings.AXES_USERNAME_FORM_FIELD
    username = credentials.get(field) if credentials else None
    if username is None and request is not None and hasattr(request, "POST"):
        username = request.POST.get(field)
    return str(username)[:USERNAME_MAX] if username else None


def cool_off_minutes() -> int | None:
    from axes.helpers import get_cool_off

    cool_off = get_cool_off()
    return math.ceil(cool_off.total_seconds() / 60) if cool_off else None


def lockout_message() -> str:
    minutes = cool_off_minutes()
    if minutes is None:
        return _(
            "Too many failed logins for this username from your address. "
            "Ask an administrator to unlock it (Login attempts, in the admin)."
        )
    return ngettext(
        "Too many failed logins for this username from your address. Try again in %(minutes)d minute, "
        "or ask an administrator to unlock it.",
        "Too many failed logins for this username from your address. Try again in %(minutes)d minutes, "
        "or ask an administrator to unlock it.",
        minutes,
    ) % {"minutes": minutes}


def lockout_response(request, original_response=None, credentials=None):
    """The admin's login page, with the lockout as its error (axes calls this instead of its bare text)."""
    from django.contrib import admin
    from django.contrib.admin.forms import AdminAuthenticationForm

    if isinstance(original_response, dict) and credentials is None:
        credentials = original_response  # axes' async middleware passes (request, credentials)
    username = username_for_axes(request, credentials) or ""
    form = AdminAuthenticationForm(request, initial={"username": username})
    context = {
        **admin.site.each_context(request),
        "title": _("Log in"),
        "app_path": request.get_full_path(),
        "form": form,
        "lockout_message": lockout_message(),
        "next": request.POST.get("next", "") if request.method == "POST" else request.GET.get("next", ""),
    }
    return render(request, "backoffice/login_locked.html", context, status=settings.AXES_HTTP_RESPONSE_CODE)


def unlock(attempts, *, user) -> int:
    """Remove the failure records of ``attempts`` (an AccessAttempt queryset): those username and address
    pairs may log in again at once. Returns how many records were removed."""
    pairs = list(attempts.values_list("username", "ip_address"))
    count, _by_model = attempts.delete()
    for username, address in pairs:
        log.info("Login unlocked for %r from %s by %s", username, address, user)
    return count
