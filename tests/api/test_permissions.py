"""Every API view states its permission explicitly; a view relying on a default fails here."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from backoffice.api.auth import ScopePermission, StaffOnly
from backoffice.api.views import ApiView

EXPLICIT = (ScopePermission, StaffOnly, AllowAny)


def api_views(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from api_views(pattern, route)
        elif isinstance(pattern, URLPattern) and route.startswith("api/"):
            view_class = getattr(pattern.callback, "view_class", None) or getattr(pattern.callback, "cls", None)
            yield route, view_class


def permission_problem(view_class) -> str | None:
    """Why ``view_class`` does not state its permission, or None."""
    if view_class is None or not issubclass(view_class, APIView):
        return "is not a DRF view"
    declared = next(
        (
            klass.__dict__["permission_classes"]
            for klass in view_class.__mro__
            if "permission_classes" in klass.__dict__
        ),
        None,
    )
    defining = next(klass for klass in view_class.__mro__ if "permission_classes" in klass.__dict__)
    if defining in (APIView, ApiView) or not declared:
        return "does not set permission_classes"
    if not all(isinstance(p, type) and issubclass(p, EXPLICIT) for p in declared):
        return f"uses permissions outside the API's explicit set: {declared}"
    return None


def test_every_api_view_states_its_permission():
    views = list(api_views())
    assert len(views) >= 12
    problems = {route: problem for route, view in views if (problem := permission_problem(view))}
    assert problems == {}


def test_a_view_without_a_stated_permission_is_caught():
    class Forgetful(ApiView):
        def get(self, request):
            return None

    class Defaulted(APIView):
        pass

    assert permission_problem(Forgetful) == "does not set permission_classes"
    assert permission_problem(Defaulted) == "does not set permission_classes"


@pytest.mark.django_db
def test_forgetting_the_permission_denies_rather_than_allows(key_and_secret, rf):
    class Forgetful(ApiView):
        def get(self, request):
            from rest_framework.response import Response

            return Response({"secret": True})

    request = rf.get("/api/v1/forgetful/", HTTP_AUTHORIZATION=f"Bearer {key_and_secret[1]}")
    request.request_id = "t"
    response = Forgetful.as_view()(request)
    assert response.status_code == 403
