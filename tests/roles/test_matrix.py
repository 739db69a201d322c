"""Every role against every admin URL and action.

The URLs come from the admin site (each admin's ``urls`` and actions), what they require from
``tests/roles/matrix.py``, and each role's permissions from ``backoffice.roles`` through ``setup_roles``.
"Allowed" is a 200 (after the admin's own redirects); "forbidden" is a 403, a 404 for an app index, or an
action that is not offered and whose POST writes nothing. A save or an add that is forbidden is also
POSTed and must answer 403 and write nothing. Each request runs in a savepoint rolled back afterwards, so
one world serves every role and every request.

An admin, URL or action missing from the matrix fails ``test_every_admin_url_is_classified`` with the line
to add.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client, RequestFactory
from django.urls import URLPattern, reverse
from django.urls.resolvers import RoutePattern
from PIL import Image

from backoffice.api.keys import issue_key
from backoffice.imports import engine
from backoffice.models import Job
from backoffice.roles import ROLES, history_model, setup_roles
from catalog import services
from media_pipeline.services import ingest_image
from orders.services import place_order
from tests.factories import (
    BrandFactory,
    CategoryFactory,
    CustomerFactory,
    SupplierFactory,
    TagFactory,
    UserFactory,
)
from tests.roles.matrix import ADMINS, ARGS, NEVER, STANDARD, AnyOf

pytestmark = pytest.mark.django_db

MATRIX_FILE = "tests/roles/matrix.py"
WATCHED_APPS = {"auth", "backoffice", "api", "catalog", "orders", "media_pipeline", "axes", "webhooks"}
LINKED_FROM_CHANGELIST = ("add", "import", "export")  # buttons a role without the permission must not see
ACTION_SELECT = re.compile(r'<select[^>]*name="action"[^>]*>(.*?)</select>', re.S)


@dataclass(frozen=True)
class Probe:
    kind: str  # page, app, save, add-post, action
    label: str
    path: str
    need: object  # resolved requirement: a permission, a tuple (all), AnyOf, or NEVER
    action: str = ""
    shown_on: str = ""  # a page that links here (the changelist's Add, Import and Export buttons)


# --- requirements ----------------------------------------------------------------------------------------


def resolve(requirement, opts):
    """A requirement with every verb turned into a full permission of ``opts``' model."""
    if isinstance(requirement, AnyOf):
        return AnyOf(*(resolve(item, opts) for item in requirement))
    if isinstance(requirement, tuple):
        return tuple(resolve(item, opts) for item in requirement)
    if "." in requirement:
        return requirement
    if requirement == "history":
        history = history_model(opts.model)
        if history is not None:
            return f"{history._meta.app_label}.view_{history._meta.model_name}"
        requirement = "view"
    return f"{opts.app_label}.{requirement}_{opts.model_name}"


def met(user, need) -> bool:
    if isinstance(need, AnyOf):
        return any(met(user, item) for item in need)
    if isinstance(need, tuple):
        return all(met(user, item) for item in need)
    return user.has_perm(need)


# --- the URL list, from the site ----------------------------------------------------------------------------


def _converters(pattern: URLPattern) -> list[str]:
    if isinstance(pattern.pattern, RoutePattern):
        return list(pattern.pattern.converters)
    regex = pattern.pattern.regex
    if regex.groups and not regex.groupindex:  # unnamed groups (django-simple-history): id, then version
        return ["object_id", "version_id"][: regex.groups]
    return list(regex.groupindex)


def _kwargs(pattern, suffix, model_admin, obj, problems) -> dict | None:
    kwargs = {}
    extra = ARGS[suffix](model_admin) if suffix in ARGS else {}
    for name in _converters(pattern):
        if name in ("object_id", "id"):
            if obj is None:
                problems.append(
                    f"{model_admin.opts.label}: the walk has no row for its object URLs; "
                    f"create one in world() of tests/roles/test_matrix.py"
                )
                return None
            kwargs[name] = str(obj.pk)
        elif name in ("version_id", "history_id"):
            record = obj.history.order_by("history_id").first() if obj is not None else None
            if record is None:
                problems.append(f"{model_admin.opts.label}: {obj!r} has no history for {pattern.name}")
                return None
            kwargs[name] = str(record.pk)
        elif name in extra:
            kwargs[name] = extra[name]
        else:
            problems.append(
                f"{model_admin.opts.label}: URL {pattern.name} takes <{name}>; "
                f"say how to fill it in ARGS of {MATRIX_FILE}"
            )
            return None
    return kwargs


def _object(model, world, rules):
    if model._meta.label not in world:
        obj = model._default_manager.order_by("pk").first()
        world[model._meta.label] = obj if obj is not None or rules.make is None else rules.make(world)
    return world[model._meta.label]


def site_probes(world, superuser) -> tuple[list[Probe], list[str]]:
    """Every probe of the site, and what the matrix fails to classify (or classifies that does not exist)."""
    probes, problems = [], []
    request = RequestFactory().get("/")
    request.user = superuser
    by_app: dict[str, list] = {}
    for model, model_admin in sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label):
        opts, label = model._meta, model._meta.label
        rules = ADMINS.get(label)
        if rules is None:
            problems.append(
                f"{label}: a new admin; classify it in ADMINS of {MATRIX_FILE}, "
                f'e.g. "{label}": Rules(urls={{...}}, actions={{...}}) (Rules() if it adds nothing)'
            )
            continue
        prefix = f"{opts.app_label}_{opts.model_name}_"
        obj = _object(model, world, rules)
        seen, used_urls = set(), set()
        for pattern in model_admin.urls:
            if not isinstance(pattern, URLPattern) or not pattern.name or pattern.name in seen:
                continue
            seen.add(pattern.name)
            suffix = pattern.name.removeprefix(prefix)
            if suffix in STANDARD:
                # "change" in never is the save; seeing the change page is still "view".
                refused = suffix in rules.never and suffix != "change"
                requirement = NEVER if refused else rules.standard.get(suffix, STANDARD[suffix])
            elif suffix in rules.urls:
                requirement = rules.urls[suffix]
                used_urls.add(suffix)
            else:
                problems.append(
                    f"{label}: URL {pattern.name} ({pattern.pattern}) is not classified; add "
                    f'"{suffix}": <requirement> to ADMINS["{label}"].urls in {MATRIX_FILE}'
                )
                continue
            kwargs = _kwargs(pattern, suffix, model_admin, obj, problems)
            if kwargs is None:
                continue
            if isinstance(pattern.pattern, RoutePattern) or pattern.pattern.regex.groupindex:
                path = reverse(f"admin:{pattern.name}", kwargs=kwargs)
            else:
                path = reverse(f"admin:{pattern.name}", args=list(kwargs.values()))
            kind = "post" if suffix in rules.post_only else "page"
            probes.append(Probe(kind, label, path, resolve(requirement, opts)))
            if suffix == "change":
                save = NEVER if "change" in rules.never else rules.standard.get("save", "change")
                probes.append(Probe("save", label, path, resolve(save, opts)))
            if suffix == "add":
                probes.append(Probe("add-post", label, path, resolve(requirement, opts)))
            if suffix in LINKED_FROM_CHANGELIST:
                changelist_path = reverse(f"admin:{prefix}changelist")
                probes.append(Probe("link", label, path, resolve(requirement, opts), shown_on=changelist_path))
            if suffix == "changelist":
                by_app.setdefault(opts.app_label, []).append(resolve(requirement, opts))
        problems += [
            f'{label}: ADMINS["{label}"].urls lists "{s}", which the admin does not have; remove it'
            for s in sorted(set(rules.urls) - used_urls)
        ]
        changelist = reverse(f"admin:{prefix}changelist")
        declared = {a if isinstance(a, str) else a.__name__ for a in (model_admin.actions or ())}
        names = sorted(set(model_admin.get_actions(request)) | declared)
        for name in names:
            if name not in rules.actions:
                problems.append(
                    f"{label}: action {name} is not classified; add "
                    f'"{name}": <requirement> to ADMINS["{label}"].actions in {MATRIX_FILE}'
                )
                continue
            probes.append(Probe("action", label, changelist, resolve(rules.actions[name], opts), action=name))
        problems += [
            f'{label}: ADMINS["{label}"].actions lists "{a}", which the admin does not have; remove it'
            for a in sorted(set(rules.actions) - set(names))
        ]
    for app_label, needs in sorted(by_app.items()):
        probes.append(Probe("app", app_label, reverse("admin:app_list", args=[app_label]), AnyOf(*needs)))
    return probes, list(dict.fromkeys(problems))


# --- the world and the users --------------------------------------------------------------------------------


def _png() -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), "red").save(buffer, "PNG")
    buffer.seek(0)
    return buffer


@pytest.fixture
def world(superuser, settings):
    """One row of every admin's model, chosen so each URL has something to show."""
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True  # the matrix's endpoint points at this machine
    setup_roles()
    root = CategoryFactory()
    product = services.create_product(
        sku="WALK-1",
        name="Walk mug",
        slug="walk-mug",
        category=CategoryFactory(parent=root),
        brand=BrandFactory(),
        supplier=SupplierFactory(),
        price="9.90",
        status="active",
        opening_stock=20,
        tags=[TagFactory()],
        user=superuser,
    )
    order = place_order(customer=CustomerFactory(), lines=[(product, 1)], user=superuser)
    asset = ingest_image(_png(), filename="red.png", uploaded_by=superuser)
    job = Job.objects.create(
        kind="backoffice.export",
        status=Job.Status.SUCCEEDED,
        params={"download_permission": "catalog.export_product"},
        requested_by=superuser,
    )
    job.result_file.save("products.csv", ContentFile(b"sku\nWALK-1\n"))
    batch = engine.upload(
        SimpleUploadedFile("products.csv", b"sku,name\nWALK-1,Walk mug renamed\n"),
        resource="catalog.product",
        user=superuser,
    )
    key, _secret = issue_key(name="Walk shop", scopes=["catalog:read"], user=superuser)
    return {
        "catalog.Product": product,
        "orders.Order": order,
        "media_pipeline.ImageAsset": asset,
        "backoffice.Job": job,
        "backoffice.ImportBatch": batch,
        "api.IntegrationKey": key,
        "auth.User": superuser,
        "auth.Group": Group.objects.get(name=ROLES[0].name),
    }


def table_counts() -> tuple:
    """Rows of every watched table (history tables too, so an update shows), in one query."""
    tables = sorted(
        {
            model._meta.db_table
            for model in apps.get_models(include_auto_created=True)
            if model._meta.app_label in WATCHED_APPS and not model._meta.proxy and model._meta.managed
        }
    )
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {quote(t)})" for t in tables))
        return tuple(cursor.fetchone())


# --- the walk -------------------------------------------------------------------------------------------


def _statuses(response) -> list[int]:
    return [status for _url, status in getattr(response, "redirect_chain", [])] + [response.status_code]


def _page_outcome(client, path) -> tuple[str, bytes]:
    return _outcome(client.get(path, follow=True))


def _outcome(response) -> tuple[str, bytes]:
    statuses = _statuses(response)
    if 403 in statuses:
        return "forbidden", b""
    if response.status_code == 404:
        return "missing", b""
    if response.redirect_chain and response.request["PATH_INFO"] == reverse("admin:index"):
        return "missing", b""  # Django's "... doesn't exist. Perhaps it was deleted?" for an object it hides
    if response.status_code == 200:
        return "allowed", b"" if response.streaming else response.content
    return f"answered {statuses}", b""


def _offered(changelist_html: bytes, action: str) -> bool:
    select = ACTION_SELECT.search(changelist_html.decode(errors="replace"))
    return bool(select and f'value="{action}"' in select.group(1))


def check(client, user, probe: Probe, pages: dict) -> str | None:
    """None when the URL behaves as the matrix says for ``user``, else what went wrong."""
    allowed = met(user, probe.need)
    with transaction.atomic():
        before = None if allowed else table_counts()
        try:
            problem = _check(client, probe, allowed, pages)
        except Exception as exc:  # noqa: BLE001 - the test client re-raises what would be a 500
            problem = f"raised {type(exc).__name__}: {str(exc)[:200]}"
        wrote = before is not None and table_counts() != before
        transaction.set_rollback(True)
    if problem is None and wrote and not allowed:
        problem = "wrote rows although forbidden"
    return problem


def _check(client, probe: Probe, allowed: bool, pages: dict) -> str | None:
    if probe.kind in ("page", "app"):
        outcome, content = _page_outcome(client, probe.path)
        pages[probe.path] = content
        if allowed:
            return None if outcome == "allowed" else f"expected allowed, was {outcome}"
        # An app index the role cannot see does not exist for it; an object outside what the role may see
        # (a queryset scoped to the user) is a 404 too.
        refusals = ("missing",) if probe.kind == "app" else ("forbidden", "missing")
        return None if outcome in refusals else f"expected forbidden, was {outcome}"
    if probe.kind == "link":
        if allowed:
            return None  # the page itself is probed; whether a button shows is the admin's layout
        shown = f'href="{probe.path}'.encode() in pages.get(probe.shown_on, b"")
        return f"{probe.shown_on} links to it although forbidden" if shown else None
    if probe.kind == "post":
        response = client.post(probe.path, {}, follow=True)
        outcome, _content = _outcome(response)
        if allowed:
            return None if outcome == "allowed" else f"expected allowed, was {outcome}"
        return None if outcome in ("forbidden", "missing") else f"expected forbidden, was {outcome}"
    if probe.kind == "save":
        html = pages.get(probe.path, b"")
        offers_save = b'name="_save"' in html
        if allowed:
            return None if offers_save else "expected a Save button, there is none"
        if offers_save:
            return "offers Save although forbidden"
        return _refused_post(client, probe.path)  # and the caller checks that nothing was written
    if probe.kind == "add-post":
        if allowed:
            return None  # the add page itself is probed; a valid add is each app's own test
        return _refused_post(client, probe.path)
    if probe.kind == "action":
        offered = _offered(pages.get(probe.path, b""), probe.action)
        selected = [str(_first_pk(probe.label))]
        # Followed only when allowed (the action's page or the list it returns to must render); refused, what
        # counts is that nothing is written.
        response = client.post(
            probe.path, {"action": probe.action, "index": "0", "_selected_action": selected}, follow=allowed
        )
        statuses = _statuses(response)
        if allowed:
            if not offered:
                return "expected the action to be offered, it is not"
            if 403 in statuses or response.status_code != 200:
                return f"expected the action to run (200), was {statuses}"
            return None
        if offered:
            return "offers the action although forbidden"
        if any(status >= 500 for status in statuses):
            return f"answered {statuses}"
        return None
    raise AssertionError(probe.kind)


def _refused_post(client, path) -> str | None:
    status = client.post(path, {}).status_code  # not followed: what it writes is what counts
    return f"a POST answered {status}" if status >= 500 else None


def _first_pk(label: str):
    model = apps.get_model(label)
    return model._default_manager.order_by("pk").values_list("pk", flat=True).first()


def role_users() -> dict:
    users = {}
    for role in ROLES:
        user = UserFactory(is_staff=True, username=f"walk-{role.name.lower().replace(' ', '-')}")
        user.groups.add(Group.objects.get(name=role.name))
        users[role.name] = user
    return users


def test_every_admin_url_is_classified(world, superuser):
    _probes, problems = site_probes(world, superuser)
    assert problems == [], "\n".join(problems)


def test_every_role_gets_what_the_matrix_says(world, superuser):
    probes, _problems = site_probes(world, superuser)
    # Changelists and change pages come first: the actions and saves read what they showed.
    order = {"app": 0, "page": 0, "post": 1, "save": 1, "add-post": 1, "link": 1, "action": 2}
    probes.sort(key=lambda probe: order[probe.kind])
    failures = []
    for name, user in {"superuser": superuser, **role_users()}.items():
        client = Client()
        client.force_login(user)
        fresh = type(user).objects.get(pk=user.pk)  # permission caches start empty
        pages: dict = {}
        for probe in probes:
            problem = check(client, fresh, probe, pages)
            if problem:
                what = f"{probe.action} on " if probe.action else ""
                failures.append(f"{name}: {probe.kind} {what}{probe.path} ({probe.label}): {problem}")
    assert failures == [], f"{len(failures)} of {len(probes) * (len(ROLES) + 1)} checks failed:\n" + "\n".join(failures)
