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
