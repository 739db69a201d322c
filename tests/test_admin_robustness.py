"""No admin URL answers hostile input with a 5xx or takes longer than 2 s, and nothing is written.

The cases come from the admin site itself (tests/hardening/cases.py): every registered admin, each
of its URLs (detail actions, history, custom views), its declared filters, actions and autocomplete
fields. A new admin or detail action is covered without editing this file. Runs on SQLite and, with
DATABASE_URL, on PostgreSQL.
"""

import io
import time

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import RequestFactory
from PIL import Image

from backoffice import jobs
from backoffice.admin_base import BaseModelAdmin
from backoffice.api.models import ApiRequest
from catalog.models import StockMovement
from media_pipeline.services import ingest_image
from orders.services import place_order
from tests.factories import CategoryFactory, CustomerFactory, ProductFactory, TagFactory
from tests.hardening.cases import action_cases, changelist_cases, object_cases, site_cases

# reset_lockouts: no login lockout left from an earlier run (tests/conftest.py).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reset_lockouts")]

SLOW = 2.0
REGISTRY = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)
ADMIN_IDS = [model._meta.label for model, _ in REGISTRY]


@pytest.fixture
def world(superuser):
    """A row for every admin: the changelists render rows, the history pages have versions."""
    tag = TagFactory()
    product = ProductFactory(category=CategoryFactory(parent=CategoryFactory()), stock=10)
    product.tags.add(tag)
    order = place_order(customer=CustomerFactory(), lines=[(product, 1)])
    job = jobs.start_job("catalog.set_status", items=[product.pk], params={"status": "active"}, user=superuser)
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), "red").save(buffer, "PNG")
    buffer.seek(0)
    asset = ingest_image(buffer, filename="red.png", uploaded_by=superuser)
    ApiRequest.objects.create(method="GET", path="/api/v1/products/", status=429, latency_ms=1.5, request_id="r-1")
    return {"order": order, "job": job, "asset": asset, "product": product}


def table_counts() -> dict:
    """Rows of every model of the project's apps and of the auth app, history tables included."""
    labels = {"auth", "backoffice", "catalog", "orders", "media_pipeline"}
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.app_label in labels and not model._meta.proxy
    }


def run(client, cases) -> list[str]:
    problems = []
    for case in cases:
        started = time.perf_counter()
        try:
            if case.method == "GET":
                response = client.get(case.path, case.params)
            elif case.body is not None:
                response = client.generic("POST", case.path, case.body, content_type=case.content_type)
            else:
                response = client.post(case.path, case.params)
            status = response.status_code
        except Exception as exc:  # noqa: BLE001 - the test client re-raises what would be a 500
            status = f"{type(exc).__name__}: {str(exc)[:200]}"
        elapsed = time.perf_counter() - started
        if not isinstance(status, int) or status >= 500:
            problems.append(f"{case.category}: {case.method} {case.path[:120]} {str(case.params)[:120]} -> {status}")
        elif elapsed > SLOW:
            problems.append(f"{case.category}: {case.method} {case.path[:120]} took {elapsed:.1f}s")
    return problems


def request_for(user):
    request = RequestFactory().get("/")
    request.user = user
    return request


def test_every_admin_uses_the_hardened_base():
    assert [
        label
        for label, (_, model_admin) in zip(ADMIN_IDS, REGISTRY, strict=True)
        if not isinstance(model_admin, BaseModelAdmin)
    ] == []


@pytest.mark.parametrize(("model", "model_admin"), REGISTRY, ids=ADMIN_IDS)
def test_admin_survives_hostile_input(admin_client, superuser, world, model, model_admin):
    existing = model._default_manager.order_by().values_list("pk", flat=True).first()
    request = request_for(superuser)
    cases = [
        *object_cases(admin.site, model_admin, existing),
        *changelist_cases(admin.site, model_admin, request),
        *action_cases(admin.site, model_admin, request),
    ]
    before = table_counts()
    stock = StockMovement.objects.count()
    problems = run(admin_client, cases)
    assert problems == [], f"{len(problems)} of {len(cases)} requests failed:\n" + "\n".join(problems[:60])
    assert StockMovement.objects.count() == stock
    assert table_counts() == before


def test_site_views_survive_hostile_input(admin_client, world):
    before = table_counts()
    cases = site_cases(admin.site)
    problems = run(admin_client, cases)
    assert problems == [], f"{len(problems)} of {len(cases)} requests failed:\n" + "\n".join(problems)
    assert table_counts() == before


def test_anonymous_hostile_requests_are_sent_to_login(client, world):
    cases = [
        case for case in object_cases(admin.site, admin.site._registry[type(world["order"])]) if case.method == "GET"
    ]
    problems = run(client, cases[:40])
    assert problems == []
