import time

from django.conf import settings
from django.contrib.auth import logout

_STARTED = "_session_started_at"
_SEEN = "_session_seen_at"
# Writing the session on every request would cost a write per page; a minute of slack is fine.
_TOUCH_EVERY = 60


class SessionLifetimeMiddleware:
    """Ends authenticated sessions idle longer than SESSION_IDLE_TIMEOUT, or older than
    SESSION_ABSOLUTE_LIFETIME since login, whatever the activity."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            started = request.session.get(_STARTED)
            seen = request.session.get(_SEEN)
            if started is None:
                request.session[_STARTED] = now
                request.session[_SEEN] = now
            elif (
                now - started > settings.SESSION_ABSOLUTE_LIFETIME
                or now - (seen or started) > settings.SESSION_IDLE_TIMEOUT
            ):
                logout(request)
            elif now - (seen or 0) >= _TOUCH_EVERY:
                request.session[_SEEN] = now
        return self.get_response(request)


class SecurityHeadersMiddleware:
    """``X-Frame-Options: DENY`` and ``Permissions-Policy`` on every response.

    Django's XFrameOptionsMiddleware leaves a header a view has set alone, and Unfold's changelist
    and change form views set ``SAMEORIGIN`` (``xframe_options_sameorigin``); the back office is
    never framed (the CSP says ``frame-ancestors 'none'`` too), so DENY wins here, outermost."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response["X-Frame-Options"] = "DENY"
        if settings.PERMISSIONS_POLICY:
            response["Permissions-Policy"] = settings.PERMISSIONS_POLICY
        return response
