import re
from datetime import timedelta

import pytest
from django.utils import timezone

from backoffice.api import keys
from backoffice.api.models import IntegrationKey
from tests.api.conftest import ApiClient
from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/products/"


def assert_401(response):
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 401 and body["request_id"] == response["Request-Id"]


def test_issue_key_returns_a_secret_stored_only_as_its_hmac(make_key):
    key, secret = make_key(["catalog:read"])
    assert re.fullmatch(r"bo_[A-Za-z0-9]{8}_[A-Za-z0-9_-]{43}", secret)
    assert secret.split("_")[1] == key.prefix
    stored = IntegrationKey.objects.get(pk=key.pk)
    assert stored.secret_hash == keys.hash_secret(secret) and secret not in stored.secret_hash
    assert stored.scopes == ["catalog:read"]


def test_issue_key_refuses_unknown_scopes(db):
    with pytest.raises(Exception, match="Unknown scopes"):
        keys.issue_key(name="x", scopes=["catalog:read", "everything"])


def test_the_pepper_is_part_of_the_hash(settings, make_key):
    _key, secret = make_key()
    settings.API_KEY_PEPPER = "another pepper"
    assert_401(ApiClient(secret).get(URL))


def test_missing_key_is_401_with_bearer_challenge(anon):
    assert_401(anon.get(URL))


@pytest.mark.parametrize(
    "header",
    [
        "Bearer nope",
        "Bearer bo_abcdefgh_" + "A" * 43,
        "Bearer " + "bo_\x00\x00\x00" * 50,
        "Bearer " + "x" * 5000,
        "Bearer ",
    ],
)
def test_wrong_or_hostile_keys_are_401(anon, header, make_key):
    make_key()
    assert_401(anon.get(URL, HTTP_AUTHORIZATION=header))


def test_revoked_key_is_401(make_key):
    key, secret = make_key()
    keys.revoke_key(key)
    assert_401(ApiClient(secret).get(URL))


def test_expired_key_is_401(make_key):
    _key, secret = make_key(expires_at=timezone.now() - timedelta(seconds=1))
    assert_401(ApiClient(secret).get(URL))


def test_key_not_yet_expired_works(make_key):
    _key, secret = make_key(expires_at=timezone.now() + timedelta(days=1))
    assert ApiClient(secret).get(URL).status_code == 200


def test_wrong_scope_is_403_naming_the_missing_scope(api_for):
    response = api_for("orders:read").get(URL)
    assert response.status_code == 403
    body = response.json()
    assert "catalog:read" in body["detail"]
    assert body["errors"] == [{"field": None, "code": "scope_missing", "detail": body["detail"]}]
    assert body["type"].endswith("scope-missing")


def test_read_scope_does_not_allow_writes(api_for):
    response = api_for("catalog:read").post(URL, {"sku": "X"})
    assert response.status_code == 403 and "catalog:write" in response.json()["detail"]


def test_last_used_is_written_at_most_once_a_minute(make_key, django_assert_num_queries):
    key, secret = make_key()
    client = ApiClient(secret)
    client.get("/api/v1/brands/")
    first = IntegrationKey.objects.get(pk=key.pk).last_used_at
    assert first is not None
    client.get("/api/v1/brands/")
    assert IntegrationKey.objects.get(pk=key.pk).last_used_at == first
    IntegrationKey.objects.filter(pk=key.pk).update(last_used_at=first - timedelta(minutes=2))
    keys.forget()  # as a process that has not seen the key yet
    client.get("/api/v1/brands/")
    assert IntegrationKey.objects.get(pk=key.pk).last_used_at > first


def test_staff_session_works_with_model_permissions(client):
    ProductFactory()
    staff = UserFactory(is_staff=True, perms=["catalog.view_product"])
    client.force_login(staff)
    assert client.get(URL).status_code == 200
    assert client.get("/api/v1/orders/").status_code == 403


def test_a_session_of_a_non_staff_user_is_not_enough(client):
    client.force_login(UserFactory(is_staff=False))
    assert_401(client.get(URL))


# --- the key cache ------------------------------------------------------------------------------------------------


def key_queries(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if "api_integrationkey" in q["sql"]]


def test_a_found_key_is_not_read_again_while_cached(make_key):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _key, secret = make_key()
    client = ApiClient(secret)
    client.get("/api/v1/brands/")
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/api/v1/brands/").status_code == 200
    assert key_queries(captured) == []


def test_revoking_takes_effect_at_once_in_this_process(make_key):
    key, secret = make_key()
    client = ApiClient(secret)
    assert client.get("/api/v1/brands/").status_code == 200
    keys.revoke_key(key)
    assert client.get("/api/v1/brands/").status_code == 401


def test_a_change_made_elsewhere_is_seen_within_the_cache_time(make_key, settings, monkeypatch):
    key, secret = make_key()
    client = ApiClient(secret)
    assert client.get("/api/v1/brands/").status_code == 200
    # Another process revokes it: no signal reaches this one.
    IntegrationKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now())
    assert client.get("/api/v1/brands/").status_code == 200  # still cached
    later = keys.time.monotonic() + settings.API_KEY_CACHE_SECONDS + 0.1
    monkeypatch.setattr(keys.time, "monotonic", lambda: later)
    assert client.get("/api/v1/brands/").status_code == 401


def test_a_cached_key_that_expires_is_refused(make_key, monkeypatch):
    _key, secret = make_key(expires_at=timezone.now() + timedelta(hours=1))
    client = ApiClient(secret)
    assert client.get("/api/v1/brands/").status_code == 200
    cached = keys.key_for_secret(secret)
    in_two_hours = timezone.now() + timedelta(hours=2)
    monkeypatch.setattr(timezone, "now", lambda: in_two_hours)
    assert not cached.is_usable
    assert client.get("/api/v1/brands/").status_code == 401


def test_scopes_changed_in_the_admin_apply_at_once(make_key, admin_client):
    from django.urls import reverse

    key, secret = make_key(scopes=["catalog:read"])
    client = ApiClient(secret)
    assert client.get("/api/v1/brands/").status_code == 200
    response = admin_client.post(
        reverse("admin:api_integrationkey_change", args=[key.pk]),
        {"name": key.name, "scopes": ["orders:read"], "expires_at_0": "", "expires_at_1": ""},
    )
    assert response.status_code == 302
    assert client.get("/api/v1/brands/").status_code == 403


def test_no_cache_when_switched_off(make_key, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.API_KEY_CACHE_SECONDS = 0
    _key, secret = make_key()
    client = ApiClient(secret)
    client.get("/api/v1/brands/")
    with CaptureQueriesContext(connection) as captured:
        client.get("/api/v1/brands/")
    assert len(key_queries(captured)) == 1
