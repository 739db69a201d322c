from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from backoffice.admin_base import hardened_site_urls
from backoffice.views import healthz, media

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", hardened_site_urls(admin.site)),
    # The integration API: /api/v1/, /api/schema/, /api/docs/ (backoffice/api/urls.py).
    path("api/", include("backoffice.api.urls")),
    # The notification bell's JSON (backoffice/live/urls.py); the socket is /ws/live/ (backoffice.asgi).
    path("live/", include("backoffice.live.urls")),
]

if settings.SERVE_MEDIA and not settings.MEDIA_URL.startswith(("http://", "https://")):
    # Demo and development only; production serves media from the proxy or an object store (README).
    urlpatterns.append(re_path(rf"^{settings.MEDIA_URL.strip('/')}/(?P<path>.+)$", media, name="media"))
