"""Errors as RFC 9457 problem details: ``application/problem+json`` with
``{type, title, status, detail, request_id, errors: [{field, code, detail}]}``.

The DRF exception handler (:func:`exception_handler`) covers the views; :mod:`backoffice.api.middleware`
turns Django's own answers under ``/api/`` (404 of an unknown URL, 413, 500) into the same shape.
"""

from __future__ import annotations

import contextlib

import orjson
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpResponse
from django.utils.encoding import force_str
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, status
from rest_framework.response import Response

PROBLEM_CONTENT_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:backoffice:problem:"

TITLES = {
    400: gettext_lazy("Invalid request"),
    401: gettext_lazy("Authentication required"),
    403: gettext_lazy("Permission denied"),
    404: gettext_lazy("Not found"),
    405: gettext_lazy("Method not allowed"),
    406: gettext_lazy("Not acceptable"),
    409: gettext_lazy("Conflict"),
    412: gettext_lazy("Precondition failed"),
    413: gettext_lazy("Request body too large"),
    415: gettext_lazy("Unsupported media type"),
    422: gettext_lazy("Request refused by a business rule"),
    429: gettext_lazy("Too many requests"),
    500: gettext_lazy("Server error"),
    503: gettext_lazy("Service unavailable"),
}
SLUGS = {
    400: "invalid",
    401: "not-authenticated",
    403: "permission-denied",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    412: "precondition-failed",
    413: "too-large",
    415: "unsupported-media-type",
    422: "unprocessable",
    429: "throttled",
    500: "server-error",
    503: "unavailable",
}
# Django ValidationError codes that are business rules (422), not malformed input (400).
DOMAIN_CODES = frozenset({"insufficient_stock", "invalid_transition", "inactive", "gone", "discount_too_large"})


class ApiError(exceptions.APIException):
    """An API error with its own status, problem type and optional per-field errors."""

    status_code = 400
    slug = "invalid"

    def __init__(self, detail=None, *, status_code=None, slug=None, errors=None, headers=None):
        if status_code is not None:
            self.status_code = status_code
        if slug is not None:
            self.slug = slug
        self.errors = errors or []
        self.headers = headers or {}
        super().__init__(detail if detail is not None else TITLES.get(self.status_code, ""))


class PreconditionFailed(ApiError):
    status_code = 412
    slug = "precondition-failed"


class PayloadTooLarge(ApiError):
    status_code = 413
    slug = "too-large"


class Conflict(ApiError):
    status_code = 409
    slug = "conflict"


class Unprocessable(ApiError):
    status_code = 422
    slug = "unprocessable"


class ScopeMissing(exceptions.PermissionDenied):
    def __init__(self, scope: str):
        self.scope = scope
        super().__init__(_("This key lacks the scope %(scope)s.") % {"scope": scope}, code="scope_missing")


def problem_body(status_code: int, *, detail="", slug=None, errors=None, request_id="", title=None) -> dict:
    return {
        "type": TYPE_PREFIX + (slug or SLUGS.get(status_code, "error")),
        "title": force_str(title or TITLES.get(status_code, "")),
        "status": status_code,
        "detail": force_str(detail or ""),
        "request_id": request_id or "",
        "errors": errors or [],
    }


def problem_http_response(status_code: int, *, request=None, headers=None, **kwargs) -> HttpResponse:
    """A problem response outside DRF (middleware, Django handlers)."""
    body = problem_body(status_code, request_id=getattr(request, "request_id", ""), **kwargs)
    response = HttpResponse(orjson.dumps(body), status=status_code, content_type=PROBLEM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _join(prefix: str, key) -> str:
    if isinstance(key, int):
        return f"{prefix}[{key}]"
    if key in ("non_field_errors", "__all__"):
        return prefix
    return f"{prefix}.{key}" if prefix else str(key)


def flatten_errors(detail, prefix: str = "") -> list[dict]:
    """DRF's nested ``{"lines": [{}, {"quantity": [...]}]}`` as ``[{field: "lines[1].quantity", ...}]``."""
    out: list[dict] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            out += flatten_errors(value, _join(prefix, key))
    elif isinstance(detail, list):
        if all(isinstance(item, str) for item in detail):
            for item in detail:
                out.append(_error(prefix, item))
        else:
            for index, item in enumerate(detail):
                if isinstance(item, dict | list):
                    out += flatten_errors(item, _join(prefix, index))
                elif item:
                    out.append(_error(prefix, item))
    elif detail:
        out.append(_error(prefix, detail))
    return out


def _error(field: str, item) -> dict:
    return {"field": field or None, "code": str(getattr(item, "code", None) or "invalid"), "detail": force_str(item)}


def django_validation_errors(exc: DjangoValidationError, prefix: str = "", field_map=None) -> list[dict]:
    field_map = field_map or {}
    out = []
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            field = prefix if name == "__all__" else _join(prefix, field_map.get(name, name))
            for error in errors:
                out.append({"field": field or None, "code": error.code or "invalid", "detail": _message(error)})
    else:
        for error in exc.error_list:
            out.append({"field": prefix or None, "code": error.code or "invalid", "detail": _message(error)})
    return out


def _message(error: DjangoValidationError) -> str:
    message = error.message
    if error.params:
        with contextlib.suppress(TypeError, KeyError, ValueError):
            message = message % error.params
    return force_str(message)


def from_django_validation(exc: DjangoValidationError, *, prefix="", field_map=None) -> ApiError:
    """A refused write: per-field problems are a 400, a business rule refusing the whole request a 422."""
    errors = django_validation_errors(exc, prefix, field_map)
    codes = {error["code"] for error in errors}
    domain = not hasattr(exc, "error_dict") or bool(codes & DOMAIN_CODES)
    status_code = 422 if domain else 400
    detail = errors[0]["detail"] if len(errors) == 1 else _("The request was refused; see errors.")
    return ApiError(detail, status_code=status_code, slug=SLUGS[status_code], errors=errors)


def exception_handler(exc, context):
    """DRF's exception handler, speaking problem+json."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        exc = from_django_validation(exc)
    if not isinstance(exc, exceptions.APIException):
        return None  # a bug: Django logs it and the middleware answers a problem 500

    request = context.get("request")
    request_id = getattr(getattr(request, "_request", request), "request_id", "")
    headers = dict(getattr(exc, "headers", {}) or {})
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait) if exc.wait >= 1 else 1)

    status_code = exc.status_code
    if isinstance(exc, ApiError):
        errors = exc.errors
        detail = exc.detail
        slug = exc.slug
    elif isinstance(exc, exceptions.ValidationError):
        errors = flatten_errors(exc.detail)
        detail = errors[0]["detail"] if len(errors) == 1 else _("Some fields are invalid; see errors.")
        slug = "invalid"
    else:
        detail = exc.detail
        code = getattr(detail, "code", None) or exc.default_code
        errors = []
        slug = SLUGS.get(status_code, "error")
        if isinstance(exc, ScopeMissing):
            errors = [{"field": None, "code": "scope_missing", "detail": force_str(detail)}]
            slug = "scope-missing"
        elif isinstance(exc, exceptions.ParseError):
            errors = [{"field": None, "code": "parse_error", "detail": force_str(detail)}]
        elif status_code == status.HTTP_400_BAD_REQUEST:
            errors = [{"field": None, "code": str(code), "detail": force_str(detail)}]
        if isinstance(detail, list | dict):
            errors = flatten_errors(detail)
            detail = errors[0]["detail"] if errors else ""
    body = problem_body(status_code, detail=detail, slug=slug, errors=errors, request_id=request_id)
    response = Response(body, status=status_code, headers=headers, content_type=PROBLEM_CONTENT_TYPE)
    return response
