"""Helpers every app's admin shares: the empty-cell marker, status badges, JSON cells and the
redirect after a dialog action. Public names; the apps import them from here."""

import json
from urllib.parse import urlsplit, urlunsplit

from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString

from backoffice.admin_rendering import label

EMPTY = "-"


def status_label(obj, colours: dict, field: str = "status") -> SafeString:
    """Unfold's label badge for a choices field, coloured by ``colours[value]`` (None: neutral).

    Rendered as HTML rather than with ``display(label=...)`` so read-only change pages show it too.
    """
    value = getattr(obj, field)
    return label(str(getattr(obj, f"get_{field}_display")()), colours.get(value))


def safe_next_url(request, candidate: str | None, fallback: str) -> str:
    """``candidate`` if it is a relative URL on this site, else ``fallback``: a header or a query
    parameter never sends a user to another site or to a ``javascript:`` URL."""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        parts = urlsplit(candidate)
        relative = urlunsplit(("", "", parts.path or "/", parts.query, ""))
        if relative.startswith("/") and not relative.startswith("//"):
            return relative
    return fallback


def redirect_after_action(request, url: str) -> HttpResponse:
    """Dialog actions post through htmx, which must be told to navigate rather than swap."""
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def pretty_json(value) -> str:
    if not value:
        return EMPTY
    return format_html(
        "<pre class='text-xs whitespace-pre-wrap'>{}</pre>",
        json.dumps(value, indent=2, ensure_ascii=False, default=str),
    )
