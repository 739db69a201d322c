"""Authentication (integration keys first, staff sessions for the browsable docs) and scope permissions.

Every API view names its permission explicitly (``permission_classes = [scoped(read=..., write=...)]`` or
``[StaffOnly]``); ``tests/api/test_permissions.py`` fails for a view that does not.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions, permissions

from backoffice.api import keys
from backoffice.api.models import IntegrationKey, Scope
from backoffice.api.problems import ScopeMissing

# What a staff session may do, by the Django permission it needs for each scope.
SCOPE_PERMISSIONS = {
    Scope.CATALOG_READ: "catalog.view_product",
    Scope.CATALOG_WRITE: "catalog.change_product",
    Scope.STOCK_WRITE: "catalog.change_product",
    Scope.ORDERS_READ: "orders.view_order",
    Scope.ORDERS_WRITE: "orders.change_order",
    Scope.CUSTOMERS_READ: "orders.view_customer",
    Scope.CUSTOMERS_WRITE: "orders.change_customer",
}
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class IntegrationKeyAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer bo_<prefix>_<secret>``. The first authentication class, so a missing or bad key
    is a 401 with ``WWW-Authenticate: Bearer``."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        scheme, _sep, secret = header.partition(" ")
        if scheme.lower() != "bearer":
            return None
        secret = secret.strip()
        key = keys.key_for_secret(secret)
        if key is None:
            raise exceptions.AuthenticationFailed(
                _("The integration key is invalid, expired or revoked."), code="invalid_key"
            )
        request._request.integration_key = key  # for the request log, which sees only Django's request
        return (ApiKeyUser(key), key)

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


class StaffSessionAuthentication(authentication.SessionAuthentication):
    """A logged-in staff member (the docs page tries requests with the session); CSRF applies."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None or not result[0].is_staff:
            return None
        return result


class ApiKeyUser:
    """``request.user`` for a key: not a person, never staff; history names the key (``acting_as(api_key=)``)."""

    is_authenticated = True
    is_active = True
    is_staff = False
    is_superuser = False
    is_anonymous = False
    pk = id = None

    def __init__(self, key: IntegrationKey):
        self.key = key

    def __str__(self) -> str:
        return str(self.key)

    def has_perm(self, perm, obj=None) -> bool:
        return False


def integration_key(request) -> IntegrationKey | None:
    return request.auth if isinstance(request.auth, IntegrationKey) else None


def has_scope(request, scope: str) -> bool:
    key = integration_key(request)
    if key is not None:
        return key.has_scope(scope)
    user = request.user
    return bool(
        user is not None and user.is_authenticated and user.is_staff and user.has_perm(SCOPE_PERMISSIONS[scope])
    )


class ScopePermission(permissions.BasePermission):
    read_scope: str | None = None
    write_scope: str | None = None

    def required_scope(self, request) -> str | None:
        return self.read_scope if request.method in SAFE_METHODS else self.write_scope

    def has_permission(self, request, view) -> bool:
        if request.user is None or not request.user.is_authenticated:
            return False  # DRF answers 401 with WWW-Authenticate
        scope = self.required_scope(request)
        if scope is None:
            raise exceptions.MethodNotAllowed(request.method)
        if not has_scope(request, scope):
            raise ScopeMissing(scope)
        return True


def scoped(*, read: str | None = None, write: str | None = None) -> type[ScopePermission]:
    """A permission class requiring ``read`` for GET/HEAD and ``write`` for every other method."""
    name = f"Scope_{(read or '-')}_{(write or '-')}".replace(":", "_")
    return type(name, (ScopePermission,), {"read_scope": read, "write_scope": write})


class StaffOnly(permissions.BasePermission):
    """The schema and the docs: staff sessions, or any valid integration key."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user is not None and user.is_authenticated and (integration_key(request) or user.is_staff))


class Undeclared(permissions.BasePermission):
    """ApiView's default: a view that forgot to state its permission refuses everyone."""

    message = _("This endpoint declares no permission, so it refuses every request.")

    def has_permission(self, request, view) -> bool:
        return False
