"""OpenAPI with drf-spectacular: the auth schemes, shared parameters, the page envelope, and the
postprocessing hook that gives every operation its problem responses and headers."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiSerializerExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from backoffice.api.problems import PROBLEM_CONTENT_TYPE, TITLES, TYPE_PREFIX

IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=_("An ETag from an earlier answer: 304 without a body when nothing changed."),
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=_("The ETag of the product as read: the update is refused with 412 if it changed since."),
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "pattern": "^[ -~]{1,255}$", "minLength": 1, "maxLength": 255},
    OpenApiParameter.HEADER,
    description=_(
        "1 to 255 printable ASCII characters, unique per intended effect (a UUID). A retry with the same key and "
        "body replays the first answer; another body is 409; a retry while the first is running is 409."
    ),
)
CURSOR_PARAMETERS = [
    OpenApiParameter(
        "cursor",
        {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,300}$"},
        description=_("next_cursor of the previous page; absent for the first page."),
    ),
    OpenApiParameter(
        "page_size",
        {"type": "integer", "minimum": 1, "maximum": 500},
        description=_("1 to 500 rows, 100 by default. More is a 400."),
    ),
    OpenApiParameter(
        "ordering",
        OpenApiTypes.STR,
        enum=["updated_at", "-updated_at", "created_at", "-created_at"],
        description=_("A cursor-safe key (each with an id tiebreak); updated_at by default."),
    ),
]

_pages: dict[str, type] = {}


def page_of(item: type[serializers.Serializer]) -> type[serializers.Serializer]:
    """The page envelope ``{results, next_cursor, next}`` of ``item``, one component per item type."""
    name = item.__name__.removesuffix("Out") + "Page"
    if name not in _pages:
        _pages[name] = type(
            name,
            (serializers.Serializer,),
            {
                "results": item(many=True),
                "next_cursor": serializers.CharField(
                    allow_null=True, help_text=_("Pass as cursor for the next page; null on the last page.")
                ),
                "next": serializers.URLField(allow_null=True, help_text=_("The next page's URL; null on the last.")),
                "__module__": item.__module__,
            },
        )
    return _pages[name]


class IntegrationKeyScheme(OpenApiAuthenticationExtension):
    target_class = "backoffice.api.auth.IntegrationKeyAuthentication"
    name = "IntegrationKey"
    priority = 1

    def get_security_definition(self, auto_schema):
        scheme = build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Bearer")  # noqa: S106
        scheme["description"] = str(
            _("An integration key from the admin (Integrations): Authorization: Bearer bo_<prefix>_<secret>.")
        )
        return scheme


class StaffSessionScheme(OpenApiAuthenticationExtension):
    target_class = "backoffice.api.auth.StaffSessionAuthentication"
    name = "staffSession"

    def get_security_definition(self, auto_schema):
        from django.conf import settings

        return {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME}


NO_NUL = "^[^\\u0000]*$"
NOT_BLANK = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"


def _harden_string(schema: dict, *, blank_ok: bool) -> None:
    """What the server refuses in any text, said in the schema: NUL characters, and only-blank where a value is
    required (DRF trims whitespace)."""
    if schema.get("type") != "string" or {"format", "enum", "pattern", "$ref"} & set(schema) or schema.get("readOnly"):
        return
    schema["pattern"] = NO_NUL if blank_ok or not schema.get("minLength") else NOT_BLANK


class StrictSerializerScheme(OpenApiSerializerExtension):
    """Request bodies of StrictSerializers: no unknown properties, text without NUL, and any ``schema_extra``
    the serializer declares (``oneOf`` of required fields, say)."""

    target_class = "backoffice.api.serializers.StrictSerializer"
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        if direction == "request":
            schema["additionalProperties"] = False
            for prop in schema.get("properties", {}).values():
                _harden_string(prop, blank_ok=False)
                if prop.get("type") == "array":
                    _harden_string(prop.get("items", {}), blank_ok=False)
            schema.update(getattr(self.target, "schema_extra", None) or {})
        return schema


class ApiAutoSchema(AutoSchema):
    """Names the scope each operation needs, and documents Idempotency-Key on every POST."""

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        scope = self._required_scope()
        if operation is not None and scope:
            note = str(_("Requires the scope %(scope)s.") % {"scope": scope})
            operation["description"] = f"{operation.get('description', '')}\n\n{note}".strip()
            operation["x-required-scope"] = scope
        return operation

    def _required_scope(self) -> str | None:
        from backoffice.api.auth import SAFE_METHODS, ScopePermission

        for permission in getattr(self.view, "permission_classes", []):
            if isinstance(permission, type) and issubclass(permission, ScopePermission):
                return permission.read_scope if self.method in SAFE_METHODS else permission.write_scope
        return None

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        if self.method == "POST":
            parameters.append(IDEMPOTENCY_KEY)
        return parameters


# --- the postprocessing hook -------------------------------------------------------------------------------

HEADER_DOCS = {
    "Request-Id": _("Identifies this request in the logs; taken from the request's Request-Id when valid."),
    "RateLimit-Limit": _("Requests allowed in the current window."),
    "RateLimit-Remaining": _("Requests left in the current window."),
    "RateLimit-Reset": _("Seconds until the window resets."),
}
INTEGER_HEADERS = {"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "Retry-After"}


def _problem_schema() -> dict:
    return {
        "type": "object",
        "description": str(_("An RFC 9457 problem.")),
        "required": ["type", "title", "status", "detail", "request_id", "errors"],
        "properties": {
            "type": {"type": "string", "example": f"{TYPE_PREFIX}invalid"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "request_id": {"type": "string"},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["field", "code", "detail"],
                    "properties": {
                        "field": {"type": "string", "nullable": True, "example": "lines[0].quantity"},
                        "code": {"type": "string"},
                        "detail": {"type": "string"},
                    },
                },
            },
        },
    }


def _header(name: str) -> dict:
    schema = {"type": "integer"} if name in INTEGER_HEADERS else {"type": "string"}
    doc = HEADER_DOCS.get(name, "")
    return {"schema": schema, "description": str(doc)}


def _problem_response(status: int) -> dict:
    return {
        "description": str(TITLES[status]),
        "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def _statuses_for(method: str, operation: dict) -> list[int]:
    statuses = [400, 401, 403, 404, 405, 406, 429]
    if method in ("post", "put", "patch"):
        statuses += [413, 415, 422]
    if method == "post":
        statuses.append(409)
    if method == "patch":
        statuses.append(412)
    if not operation.get("security") or {} in operation.get("security", []):
        statuses = [s for s in statuses if s not in (401, 403)] + [401, 403]
    return sorted(set(statuses))


def add_problem_responses(result, generator, request, public):
    """Every operation: problem+json responses for the errors it can give, and the headers every
    response carries (Request-Id, RateLimit-*; Retry-After on 429 and 409)."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = _problem_schema()
    for path, item in result.get("paths", {}).items():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query":
                    _harden_string(parameter.get("schema", {}), blank_ok=True)
            responses = operation.setdefault("responses", {})
            for status in _statuses_for(method, operation):
                responses.setdefault(str(status), _problem_response(status))
            for status, response in responses.items():
                headers = response.setdefault("headers", {})
                for name in HEADER_DOCS:
                    headers.setdefault(name, _header(name))
                if status in ("429", "409"):
                    headers["Retry-After"] = {**_header("Retry-After"), "description": str(_("Seconds to wait."))}
                if status in ("200", "201", "304") and path.startswith("/api/v1/products") and method == "get":
                    headers["ETag"] = {"schema": {"type": "string"}, "description": str(_("The representation's tag."))}
                if status == "201":
                    headers["Location"] = {"schema": {"type": "string"}, "description": str(_("The new resource."))}
    return result
