"""The base of every API view: authentication, throttling before permissions, problem errors, idempotent
POSTs, rate-limit headers, and the ETag helpers."""

from __future__ import annotations

import hashlib

from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import APIView

from backoffice.api import idempotency
from backoffice.api.auth import (
    IntegrationKeyAuthentication,
    StaffSessionAuthentication,
    Undeclared,
    integration_key,
)
from backoffice.api.problems import PreconditionFailed
from backoffice.api.renderers import ORJSONParser, ORJSONRenderer, dumps
from backoffice.api.schema import ApiAutoSchema
from backoffice.api.throttling import ApiRateThrottle, rate_limit_headers
from backoffice.history import acting_as


class RateLimitHeaders:
    # RateLimit-Limit, -Remaining and -Reset on every answer of a throttled DRF view. (A comment, not a
    # docstring: drf-spectacular would take a docstring for the description of every operation.)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        for name, value in rate_limit_headers(request._request).items():
            response[name] = value
        return response


class ApiView(RateLimitHeaders, APIView):
    authentication_classes = [IntegrationKeyAuthentication, StaffSessionAuthentication]
    renderer_classes = [ORJSONRenderer]
    parser_classes = [ORJSONParser]
    throttle_classes = [ApiRateThrottle]
    schema = ApiAutoSchema()
    metadata_class = None  # no OPTIONS introspection: the schema documents everything
    # Subclasses must set permission_classes themselves (tests/api/test_permissions.py checks it); one that
    # forgets refuses every request rather than allowing it.
    permission_classes: list = [Undeclared]

    @property
    def allowed_methods(self):
        return [method for method in super().allowed_methods if method != "OPTIONS"]  # OPTIONS is a 405 here

    def initial(self, request, *args, **kwargs):
        self.format_kwarg = self.get_format_suffix(**kwargs)
        neg = self.perform_content_negotiation(request)
        request.accepted_renderer, request.accepted_media_type = neg
        version, scheme = self.determine_version(request, *args, **kwargs)
        request.version, request.versioning_scheme = version, scheme
        # Throttle even a failed authentication (per IP), so keys cannot be guessed at full speed.
        try:
            self.perform_authentication(request)
        finally:
            self.check_throttles(request)
        if integration_key(request) is not None:
            # DRF copies its user onto the Django request, where simple-history would take it for a person;
            # history names the key through acting_as(api_key=) instead.
            request._request.user = AnonymousUser()
        self.check_permissions(request)
        self._idempotency = None
        if request.method == "POST":
            self._idempotency = idempotency.claim(request)

    def dispatch(self, request, *args, **kwargs):
        self._idempotency = None
        try:
            return super().dispatch(request, *args, **kwargs)
        finally:
            if self._idempotency is not None:  # an unhandled error (a 500): release the key for a retry
                idempotency.release(self._idempotency)
                self._idempotency = None

    def handle_exception(self, exc):
        if isinstance(exc, idempotency.Replay):
            return exc.response
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        record = getattr(self, "_idempotency", None)
        if record is not None:
            self._idempotency = None
            idempotency.finish(record, response)
        return response

    def acting(self):
        """``acting_as`` the caller: the key, or the staff user of a session."""
        key = integration_key(self.request)
        if key is not None:
            return acting_as(api_key=key)
        return acting_as(user=self.request.user)

    @property
    def acting_user(self):
        user = self.request.user
        return user if integration_key(self.request) is None else None


# --- ETags -------------------------------------------------------------------------------------------------


def etag_of(data) -> str:
    """A strong ETag over the representation's data (stored names, not signed URLs, so it is stable)."""
    return '"' + hashlib.blake2b(dumps(data), digest_size=16).hexdigest() + '"'


def _tags(header: str) -> list[str]:
    return [part.strip().removeprefix("W/") for part in header.split(",") if part.strip()]


def not_modified(request, etag: str) -> Response | None:
    header = request.META.get("HTTP_IF_NONE_MATCH")
    if header and (header.strip() == "*" or etag in _tags(header)):
        return Response(status=304, headers={"ETag": etag})
    return None


def check_if_match(request, etag: str) -> None:
    header = request.META.get("HTTP_IF_MATCH")
    if not header:
        return
    tags = [part.strip() for part in header.split(",")]
    if header.strip() == "*" or etag in tags:
        return
    raise PreconditionFailed(
        _("The product changed since you read it (If-Match does not match its ETag); read it again and retry.")
    )


def require_json_object(data) -> dict:
    if not isinstance(data, dict):
        raise exceptions.ValidationError({"non_field_errors": [_("The body must be a JSON object.")]})
    return data
