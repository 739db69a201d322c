import time

from csp.utils import build_policy
from django.conf import settings
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.auth import logout

_STARTED = "_session_started_at"
_SEEN = "_session_seen_at"
# Writing the session on every request would cost a write per page; a minute of slack is fine.
_TOUCH_EVERY = 60


# Requests a page makes by itself (progress polling, notification refresh) send this header: they are
# not activity, so a tab left open does not keep its session alive past the idle timeout.
BACKGROUND_HEADER = "HTTP_X_BACKGROUND_REQUEST"


def session_age_state(session, now: int | None = None) -> str:
    """Where an authenticated session stands against SESSION_IDLE_TIMEOUT and SESSION_ABSOLUTE_LIFETIME:
    ``"new"`` (never stamped), ``"expired"``, ``"due"`` (alive, its last-seen stamp is worth refreshing)
    or ``"fresh"``. The one rule for pages (SessionLifetimeMiddleware) and sockets (backoffice.live)."""
    now = int(time.time()) if now is None else now
    started = session.get(_STARTED)
    seen = session.get(_SEEN)
    if started is None:
        return "new"
    if now - started > settings.SESSION_ABSOLUTE_LIFETIME or now - (seen or started) > settings.SESSION_IDLE_TIMEOUT:
        return "expired"
    if now - (seen or 0) >= _TOUCH_EVERY:
        return "due"
    return "fresh"


class SessionLifetimeMiddleware:
    """Ends authenticated sessions idle longer than SESSION_IDLE_TIMEOUT, or older than
    SESSION_ABSOLUTE_LIFETIME since login, whatever the activity."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            state = session_age_state(request.session, now)
            if state == "new":
                request.session[_STARTED] = now
                request.session[_SEEN] = now
            elif state == "expired":
                logout(request)
            elif state == "due" and not request.META.get(BACKGROUND_HEADER):
                request.session[_SEEN] = now
        return self.get_response(request)


class SecurityHeadersMiddleware:
    """``X-Frame-Options: DENY`` and ``Permissions-Policy`` on every response.

    Django's XFrameOptionsMiddleware leaves a header a view has set alone, and Unfold's changelist
    and change form views set ``SAMEORIGIN`` (``xframe_options_sameorigin``); the back office is
    never framed (the CSP says ``frame-ancestors 'none'`` too), so DENY wins here, outermost.

    The one exception is an admin popup (``?_popup=1``: the raw-id lookup, "add another"): Unfold
    opens it in an iframe of the same page, so its answer may be framed by this site and no other."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.GET.get(IS_POPUP_VAR) == "1" and response.get("Content-Security-Policy"):
            response["X-Frame-Options"] = "SAMEORIGIN"
            response["Content-Security-Policy"] = build_policy(replace={"frame-ancestors": ["'self'"]})
        else:
            response["X-Frame-Options"] = "DENY"
        if settings.PERMISSIONS_POLICY:
            response["Permissions-Policy"] = settings.PERMISSIONS_POLICY
        return response
