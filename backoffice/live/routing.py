"""The protocol router behind backoffice.asgi: WebSockets at /ws/live/ only, from this site's pages."""

from urllib.parse import urlparse

from channels.routing import ProtocolTypeRouter, URLRouter
from channels.security.websocket import OriginValidator, WebsocketDenier
from channels.sessions import SessionMiddlewareStack
from django.conf import settings
from django.urls import path

from backoffice.live.consumers import LiveConsumer


class SameSiteOriginValidator(OriginValidator):
    """The Origin must be one of ALLOWED_HOSTS (any scheme, as Channels' AllowedHostsOriginValidator
    checks) and name the host the socket was opened on, or be one of CSRF_TRUSTED_ORIGINS: a page of
    another site cannot open a socket with its visitor's cookie, even where ALLOWED_HOSTS is "*"."""

    def __init__(self, application):
        super().__init__(application, [*settings.ALLOWED_HOSTS, *settings.CSRF_TRUSTED_ORIGINS])

    async def __call__(self, scope, receive, send):
        headers = dict(scope.get("headers", []))
        origin = urlparse(headers.get(b"origin", b"").decode("latin1"))
        host = headers.get(b"host", b"").decode("latin1").lower()
        if self.same_site(origin, host):
            return await self.application(scope, receive, send)
        return await WebsocketDenier()(scope, receive, send)

    def same_site(self, origin, host: str) -> bool:
        if not origin.scheme or not origin.netloc:
            return False
        if f"{origin.scheme}://{origin.netloc}" in settings.CSRF_TRUSTED_ORIGINS:
            return True
        return origin.netloc.lower() == host and self.validate_origin(origin)


websocket_urlpatterns = [path("ws/live/", LiveConsumer.as_asgi())]


def build_application(http_application):
    return ProtocolTypeRouter(
        {
            "http": http_application,
            "websocket": SameSiteOriginValidator(SessionMiddlewareStack(URLRouter(websocket_urlpatterns))),
        }
    )
