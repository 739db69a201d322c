"""Hostile requests for every admin URL, built from the admin site itself.

Shared by ``tests/test_admin_robustness.py`` (Django test client, SQLite or PostgreSQL) and
``bin/probe-admin`` (HTTP against a running demo). Nothing here is specific to one admin: the
cases come from ``admin.site._registry``, each admin's own URL patterns (detail actions, history,
custom views included), its declared filters, its actions and its autocomplete fields, so a new
admin or a new detail action is covered without editing this file.
"""

import re
import uuid
from dataclasses import dataclass, field

from django.contrib.admin.views.main import PAGE_VAR, SEARCH_VAR
from django.urls import URLPattern, reverse
from django.urls.resolvers import RegexPattern, RoutePattern

UNKNOWN_UUID = "00000000-0000-4000-8000-000000000000"
# Not an id in different ways: free text, an unknown UUID, an integer for a UUID key, a NUL byte
# (the test client and the probe send it percent-encoded), a huge integer, a long string.
HOSTILE_IDS = ["not-a-uuid", UNKNOWN_UUID, "1", "%00", "99999999999999999999999", "a" * 300]
HOSTILE_VERSIONS = ["not-a-number", "0", "99999999999999999999999", "%00"]
CATASTROPHIC_REGEX = "(.*.*){2}.*.*#" + ".*" * 6
THOUSAND_WORDS = " ".join(f"w{i}" for i in range(1000))
SIXTY_THOUSAND_CHARS = "x" * 60_000
OVERSIZED_SEARCHES = [THOUSAND_WORDS, SIXTY_THOUSAND_CHARS, "\x00", "%_\\[*"]
BAD_VALUES = ["not-valid", "\x00", "9" * 30, "2024-13-45", "-1", "٣"]
BAD_PAGES = ["0", "-1", "abc", "999999999", "1e9", "٣", "\x00"]


@dataclass(frozen=True)
class Case:
    category: str
    method: str
    path: str
    params: dict = field(default_factory=dict, hash=False)  # query (GET) or form body (POST)
    body: bytes | None = None
    content_type: str | None = None


def _fill_route(route: str, object_id: str, version: str) -> str:
    route = re.sub(r"<(?:\w+:)?object_id>", object_id, route)
    return re.sub(r"<(?:\w+:)?\w+>", version, route)


def _fill_regex(regex: str, object_id: str, version: str) -> str:
    values = iter([object_id, version, version])
    path = re.sub(r"\((?:\?P<\w+>)?[^)]*\)", lambda _: next(values), regex)
    return path.lstrip("^").rstrip("$")


def admin_url_patterns(model_admin) -> list[tuple[URLPattern, bool]]:
    """(pattern, takes an id) for each URL of the admin, in the order Django resolves them."""
    patterns = []
    for pattern in model_admin.urls:
        if not isinstance(pattern, URLPattern):
            continue
        if isinstance(pattern.pattern, RoutePattern):
            takes_id = bool(pattern.pattern.converters)
        elif isinstance(pattern.pattern, RegexPattern):
            takes_id = pattern.pattern.regex.groups > 0
        else:
            takes_id = False
        patterns.append((pattern, takes_id))
    return patterns


def _path(prefix: str, pattern: URLPattern, object_id: str, version: str) -> str:
    if isinstance(pattern.pattern, RegexPattern):
        return prefix + _fill_regex(pattern.pattern._regex, object_id, version)
    return prefix + _fill_route(str(pattern.pattern), object_id, version)


def hostile_form(site) -> dict:
    """Every field name of every registered model set to something that is not a valid value,
    plus the management form of a one-line formset (the place-order page's order lines)."""
    data = {}
    for model in site._registry:
        for model_field in model._meta.get_fields():
            if getattr(model_field, "concrete", False) or getattr(model_field, "many_to_many", False):
                data[model_field.name] = "not-a-uuid\x00"  # a NUL makes even free text invalid
    for name in ("delta", "quantity", "discount", "shipping", "focal_x", "focal_y", "price", "stock"):
        data[name] = "٣"
    data.update(
        {
            "lines-TOTAL_FORMS": "1",
            "lines-INITIAL_FORMS": "0",
            "lines-0-product": "not-a-uuid",
            "lines-0-quantity": "٣",
            "tags": ["not-a-uuid", UNKNOWN_UUID],
        }
    )
    return data


def _is_hostile(model, raw: str) -> bool:
    """False if ``raw`` happens to be the id of a row (``1`` for an integer key): a hostile request
    must never delete or change a real row."""
    from urllib.parse import unquote

    try:
        return not model._default_manager.filter(pk=unquote(raw)).exists()
    except Exception:  # noqa: BLE001 - not even a valid value for the key: hostile indeed
        return True


def object_cases(site, model_admin, existing_pk=None) -> list[Case]:
    """Hostile ids on every URL of the admin that takes one; hostile versions on the history
    of an existing object. GET shows pages and dialogs; POST submits them."""
    opts = model_admin.opts
    prefix = reverse(f"{site.name}:{opts.app_label}_{opts.model_name}_changelist")
    form = hostile_form(site)
    cases = []
    for pattern, takes_id in admin_url_patterns(model_admin):
        if not takes_id:
            cases.append(Case("custom view", "GET", _path(prefix, pattern, "", "")))
            if pattern.name and not pattern.name.endswith("_changelist"):
                cases.append(Case("malformed POST", "POST", _path(prefix, pattern, "", ""), form))
                cases.append(
                    Case(
                        "malformed POST",
                        "POST",
                        _path(prefix, pattern, "", ""),
                        body=b"--x\r\nnot multipart",
                        content_type="multipart/form-data; boundary=y",
                    )
                )
            continue
        for object_id in [i for i in HOSTILE_IDS if _is_hostile(model_admin.model, i)]:
            path = _path(prefix, pattern, object_id, "1")
            cases.append(Case("hostile id", "GET", path))
            cases.append(Case("hostile id", "POST", path, form))
        if existing_pk is not None and (pattern.name or "").endswith(("_simple_history", "_history", "_change")):
            for version in HOSTILE_VERSIONS:
                cases.append(Case("hostile version", "GET", _path(prefix, pattern, str(existing_pk), version)))
    return cases


def changelist_cases(site, model_admin, request) -> list[Case]:
    opts = model_admin.opts
    path = reverse(f"{site.name}:{opts.app_label}_{opts.model_name}_changelist")
    queries = [{"nope": "1"}, {"nope__in": "1,2"}, {"pk__in": "a,b"}, {"nope": "1", "e": "1"}, {"e": "1"}]
    for model_field in opts.concrete_fields:
        queries += [
            {f"{model_field.name}__regex": CATASTROPHIC_REGEX},
            {f"{model_field.name}__iregex": "["},
            {f"{model_field.name}__gt": "not-valid"},
            {model_field.attname: "not-valid"},
        ]
    for name in sorted(model_admin.allowed_lookup_parameters(request)):
        queries += [{name: value} for value in BAD_VALUES]
        queries.append({name: "not-valid", "e": "1"})
        queries.append({name: "not-valid", PAGE_VAR: "999999"})
    queries += [{PAGE_VAR: page} for page in BAD_PAGES]
    queries += [{SEARCH_VAR: term} for term in OVERSIZED_SEARCHES]
    queries += [{"o": "abc"}, {"o": "999.-1.x"}, {"all": ""}, {"_to_field": "password"}, {"_popup": "1"}]
    return [Case("changelist query", "GET", path, query) for query in queries]


def action_cases(site, model_admin, request) -> list[Case]:
    opts = model_admin.opts
    path = reverse(f"{site.name}:{opts.app_label}_{opts.model_name}_changelist")
    cases = []
    for name in [*model_admin.get_actions(request), "no_such_action"]:
        for selected in [i for i in ["not-a-uuid", UNKNOWN_UUID, "\x00", "1"] if _is_hostile(model_admin.model, i)]:
            body = {"action": name, "index": "0", "_selected_action": [selected]}
            cases.append(Case("bad selection", "POST", path, body))
        cases.append(Case("bad selection", "POST", path, {"action": name, "index": "abc", "_selected_action": []}))
        cases.append(
            Case(
                "bad selection",
                "POST",
                path,
                {"action": name, "index": "0", "apply": "1", "_selected_action": ["not-a-uuid", UNKNOWN_UUID]},
            )
        )
    return cases


def site_cases(site) -> list[Case]:
    search = reverse(f"{site.name}:search")
    autocomplete = reverse(f"{site.name}:autocomplete")
    cases = [Case("sidebar search", "GET", search, {"s": term}) for term in OVERSIZED_SEARCHES]
    cases += [Case("sidebar search", "GET", search, {"s": "a", "page": page}) for page in BAD_PAGES]
    sources = set()
    for model, model_admin in site._registry.items():
        for name in model_admin.autocomplete_fields:
            sources.add((model._meta.app_label, model._meta.model_name, name))
        for inline in model_admin.inlines:
            for name in getattr(inline, "autocomplete_fields", ()):
                sources.add((inline.model._meta.app_label, inline.model._meta.model_name, name))
    sources.add(("orders", "orderline", "product"))  # the place-order page's line picker
    for app_label, model_name, field_name in sorted(sources):
        base = {"app_label": app_label, "model_name": model_name, "field_name": field_name}
        for term in OVERSIZED_SEARCHES:
            cases.append(Case("autocomplete", "GET", autocomplete, {**base, "term": term}))
        for page in BAD_PAGES:
            cases.append(Case("autocomplete", "GET", autocomplete, {**base, "term": "a", "page": page}))
    for bogus in [
        {"app_label": "..", "model_name": "%00", "field_name": "x"},
        {"app_label": "catalog", "model_name": "product", "field_name": "nope"},
        {"app_label": "auth", "model_name": "user", "field_name": "password"},
        {},
    ]:
        cases.append(Case("autocomplete", "GET", autocomplete, {**bogus, "term": "a"}))
    cases += [
        Case("files", "GET", "/media/" + "a" * 5000),
        Case("files", "GET", "/media/%2e%2e/%2e%2e/etc/passwd"),
        Case("files", "GET", "/media/%00"),
        Case("files", "GET", "/static/%2e%2e/%2e%2e/manage.py"),
        Case("files", "GET", "/static/..%2f..%2fmanage.py"),
        Case("files", "GET", "/static/" + "a" * 5000),
        Case("health", "POST", "/healthz"),
        Case("health", "GET", "/healthz"),
        Case("site", "GET", f"/admin/r/abc/{uuid.uuid4()}/"),
        Case("site", "GET", "/admin/r/99999999999999999999/1/"),
        Case("site", "GET", "/admin/r/1/%00/"),
        Case("site", "GET", "/admin/jsi18n/", {"language": "../../x"}),
        Case("site", "GET", "/admin/no/such/page/"),
        Case("site", "POST", "/admin/password_change/", {"old_password": "\x00", "new_password1": "a" * 5000}),
        Case("site", "POST", "/i18n/setlang/", {"language": "xx", "next": "javascript:alert(1)"}),
    ]
    return cases
