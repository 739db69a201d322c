"""The roles say what the issue says, and ``setup_roles`` can run any number of times."""

import io

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.urls import reverse

from backoffice.roles import ANALYST, CATALOG_MANAGER, INTEGRATIONS_ADMIN, OPERATIONS, ROLES, VIEWER, setup_roles
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

BUSINESS = ("catalog", "orders", "media_pipeline")


def perms_of(role) -> set[str]:
    group = Group.objects.get(name=role.name)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}


@pytest.fixture
def roles(db):
    setup_roles()


def test_operations_works_orders_stock_and_products(roles):
    perms = perms_of(OPERATIONS)
    assert {"orders.change_order", "orders.add_order", "orders.change_customer", "catalog.change_product"} <= perms
    assert "catalog.view_stockmovement" in perms
    assert not {"catalog.import_product", "catalog.delete_product", "api.view_integrationkey"} & perms


def test_catalog_manager_runs_products_media_and_imports(roles):
    perms = perms_of(CATALOG_MANAGER)
    assert {
        "catalog.add_product",
        "catalog.change_product",
        "catalog.delete_product",
        "catalog.import_product",
        "catalog.import_category",
        "catalog.export_product",
        "media_pipeline.change_imageasset",
        "backoffice.view_importbatch",
    } <= perms
    assert not {p for p in perms if p.startswith("orders.")}


def test_analyst_views_and_exports_everything_and_changes_nothing(roles):
    perms = perms_of(ANALYST)
    codenames = {p.split(".", 1)[1] for p in perms}
    assert {c.split("_", 1)[0] for c in codenames} == {"view", "export"}
    exportable = Permission.objects.filter(content_type__app_label__in=BUSINESS, codename__startswith="export_")
    assert {f"{p.content_type.app_label}.{p.codename}" for p in exportable} <= perms
    viewable = Permission.objects.filter(content_type__app_label__in=BUSINESS, codename__startswith="view_")
    assert {f"{p.content_type.app_label}.{p.codename}" for p in viewable} <= perms


def test_integrations_admin_manages_keys_and_nothing_of_the_business(roles):
    perms = perms_of(INTEGRATIONS_ADMIN)
    assert {"api.add_integrationkey", "api.change_integrationkey", "api.delete_integrationkey"} <= perms
    assert not {p for p in perms if p.split(".")[0] in BUSINESS}


def test_viewer_only_views(roles):
    perms = perms_of(VIEWER)
    assert perms
    assert all(p.split(".", 1)[1].startswith("view_") for p in perms)
    assert "catalog.view_product" in perms and "orders.view_order" in perms


def test_setup_roles_is_idempotent_and_corrects_drift(roles):
    before = {role.name: perms_of(role) for role in ROLES}
    stray = Permission.objects.get(content_type__app_label="catalog", codename="delete_product")
    Group.objects.get(name=VIEWER.name).permissions.add(stray)
    out = io.StringIO()
    call_command("setup_roles", stdout=out)
    call_command("setup_roles", stdout=out)
    assert "Viewer: updated" in out.getvalue()
    assert Group.objects.filter(name__in=[role.name for role in ROLES]).count() == len(ROLES)
    assert {role.name: perms_of(role) for role in ROLES} == before


def test_an_analyst_given_the_import_permission_can_import(roles, client):
    analyst = UserFactory(is_staff=True, perms=["catalog.import_product"])
    analyst.groups.add(Group.objects.get(name=ANALYST.name))
    colleague = UserFactory(is_staff=True)
    colleague.groups.add(Group.objects.get(name=ANALYST.name))
    client.force_login(colleague)
    assert client.get(reverse("admin:catalog_product_import")).status_code == 403
    assert client.get(reverse("admin:catalog_product_export")).status_code == 200
    client.force_login(analyst)
    assert client.get(reverse("admin:catalog_product_import")).status_code == 200
