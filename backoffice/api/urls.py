"""The API's composition root: ``/api/v1/`` from each app's ``api.py``, the schema and the docs.

Included from ``backoffice/urls.py`` at ``api/``.
"""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny

from backoffice.api.auth import IntegrationKeyAuthentication, StaffSessionAuthentication
from backoffice.api.throttling import ApiRateThrottle
from backoffice.api.views import RateLimitHeaders
from catalog import api as catalog_api
from orders import api as orders_api


class SchemaView(RateLimitHeaders, SpectacularAPIView):
    """The OpenAPI document (public: it holds no data)."""

    authentication_classes = [IntegrationKeyAuthentication, StaffSessionAuthentication]
    permission_classes = [AllowAny]
    throttle_classes = [ApiRateThrottle]
    metadata_class = None


class DocsView(RateLimitHeaders, SpectacularSwaggerSplitView):
    """Swagger UI with self-hosted assets; a logged-in staff member can try requests with the session."""

    authentication_classes = [IntegrationKeyAuthentication, StaffSessionAuthentication]
    permission_classes = [AllowAny]
    throttle_classes = [ApiRateThrottle]
    metadata_class = None


app_name = "api"
urlpatterns = [
    path("schema/", SchemaView.as_view(), name="schema"),
    path("docs/", DocsView.as_view(url_name="api:schema"), name="docs"),
    path("v1/", include(catalog_api.urlpatterns() + orders_api.urlpatterns())),
]
