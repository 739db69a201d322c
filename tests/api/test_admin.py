import pytest
from django.urls import reverse

from backoffice.api import keys
from backoffice.api.models import IntegrationKey
from backoffice.navigation import sidebar_navigation
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_creating_a_key_shows_its_secret_once(admin_client):
    response = admin_client.post(
        reverse("admin:api_integrationkey_add"),
        {"name": "Shop front", "scopes": ["catalog:read", "orders:write"], "expires_at_0": "", "expires_at_1": ""},
    )
    assert response.status_code == 200, response.content[:2000]
    key = IntegrationKey.objects.get()
    secret = response.context["secret"]
    assert secret.startswith(f"bo_{key.prefix}_") and secret in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert keys.key_for_secret(secret) == key and key.scopes == ["catalog:read", "orders:write"]
    change = admin_client.get(reverse("admin:api_integrationkey_change", args=[key.pk]))
    assert change.status_code == 200 and secret not in change.content.decode()
    listing = admin_client.get(reverse("admin:api_integrationkey_changelist"))
    assert listing.status_code == 200 and secret not in listing.content.decode()


def test_revoke_action(admin_client):
    key, secret = keys.issue_key(name="ERP", scopes=["stock:write"])
    response = admin_client.post(
        reverse("admin:api_integrationkey_changelist"), {"action": "revoke", "_selected_action": [str(key.pk)]}
    )
    assert response.status_code == 302
    assert IntegrationKey.objects.get(pk=key.pk).revoked_at is not None
    assert keys.key_for_secret(secret) is None


def test_integrations_sidebar_group_for_those_allowed(rf):
    request = rf.get("/admin/")
    request.user = UserFactory(is_staff=True, perms=["api.view_integrationkey"])
    titles = [str(group["title"]) for group in sidebar_navigation(request)]
    assert "Integrations" in titles
    request.user = UserFactory(is_staff=True)
    assert "Integrations" not in [str(group["title"]) for group in sidebar_navigation(request)]
