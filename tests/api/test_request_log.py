"""The API request log: what a row holds, that it is written off the request path and in bulk, pruning, and the
admin pages that read it."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from backoffice.api import request_log
from backoffice.api.models import ApiRequest
from backoffice.api.tasks import prune_request_log
from tests.api.conftest import ApiClient
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

WRITES = ("INSERT", "UPDATE", "DELETE")


@pytest.fixture(autouse=True)
def _empty_buffer(settings):
    """A fresh buffer per test; flushes only when a test asks (or fills a batch)."""
    settings.API_REQUEST_LOG_BATCH_SIZE = 10_000
    settings.API_REQUEST_LOG_FLUSH_SECONDS = 3600
    request_log.discard()
    yield
    request_log.discard()


def writes(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if q["sql"].lstrip().upper().startswith(WRITES)]


def test_a_request_is_recorded_with_its_fields_and_never_its_body(key_and_secret):
    key, secret = key_and_secret
    product = ProductFactory(stock=5)
    body = {"adjustments": [{"sku": product.sku, "delta": 2, "reason": "receipt", "reference": "SECRET-REFERENCE-42"}]}
    response = ApiClient(secret).post(
        "/api/v1/stock/adjustments/", body, HTTP_IDEMPOTENCY_KEY="retry-7", HTTP_REQUEST_ID="trace.abc-1"
    )
    assert response.status_code == 200
    assert ApiRequest.objects.count() == 0  # buffered, not written
    assert request_log.flush() == 1
    row = ApiRequest.objects.get()
    assert (row.key_id, row.method, row.path, row.status) == (key.pk, "POST", "/api/v1/stock/adjustments/", 200)
    assert row.idempotency_key == "retry-7" and row.request_id == "trace.abc-1" == response["Request-Id"]
    assert 0 < row.latency_ms < 60_000
    stored = " ".join(str(getattr(row, f.attname)) for f in ApiRequest._meta.concrete_fields)
    assert "SECRET-REFERENCE-42" not in stored and secret not in stored


def test_requests_without_a_key_errors_and_unknown_urls_are_recorded(client):
    client.get("/api/v1/products/")
    client.get("/api/v1/nowhere/", HTTP_REQUEST_ID="x" * 65)  # an invalid Request-Id: a generated one is logged
    client.get("/api/v1/products/", HTTP_AUTHORIZATION="Bearer bo_AAAAAAAA_" + "b" * 43)
    request_log.flush()
    rows = list(ApiRequest.objects.order_by("id").values_list("key_id", "path", "status", "request_id"))
    assert [(k, p, s) for k, p, s, _r in rows] == [
        (None, "/api/v1/products/", 401),
        (None, "/api/v1/nowhere/", 404),
        (None, "/api/v1/products/", 401),
    ]
    assert all(len(r) == 32 for *_x, r in rows)


def test_long_paths_and_idempotency_keys_are_cut_to_their_columns(key_and_secret):
    _key, secret = key_and_secret
    ApiClient(secret).get("/api/v1/products/sku/" + "A" * 4000 + "/", HTTP_IDEMPOTENCY_KEY="k" * 5000)
    request_log.flush()
    row = ApiRequest.objects.get()
    assert len(row.path) == request_log.PATH_MAX and len(row.idempotency_key) == request_log.IDEMPOTENCY_KEY_MAX


def test_a_get_writes_nothing_to_the_database_while_it_is_answered(key_and_secret, django_assert_max_num_queries):
    _key, secret = key_and_secret
    api = ApiClient(secret)
    api.get("/api/v1/products/")  # the key's last-used time is written once a minute; not what is measured here
    for _ in range(3):
        with CaptureQueriesContext(connection) as captured:
            assert api.get("/api/v1/products/").status_code == 200
        assert writes(captured) == []
    assert len(request_log.buffer) == 4 and ApiRequest.objects.count() == 0


def test_without_the_thread_a_due_batch_is_written_after_the_response(key_and_secret, settings):
    settings.API_REQUEST_LOG_BATCH_SIZE = 3
    _key, secret = key_and_secret
    api = ApiClient(secret)
    api.get("/api/v1/brands/")
    api.get("/api/v1/brands/")
    assert ApiRequest.objects.count() == 0
    api.get("/api/v1/brands/")  # fills the batch: written in request_finished, after the answer, in one INSERT
    assert ApiRequest.objects.count() == 3 and len(request_log.buffer) == 0


def test_a_flush_is_one_bulk_insert(key_and_secret):
    _key, secret = key_and_secret
    api = ApiClient(secret)
    for _ in range(25):
        api.get("/api/v1/brands/")
    with CaptureQueriesContext(connection) as captured:
        assert request_log.flush() == 25
    assert len(writes(captured)) == 1
    assert request_log.stats() == {"waiting": 0, "dropped": 0, "written": 25}


def test_the_buffer_is_bounded_dropping_the_oldest(settings):
    settings.API_REQUEST_LOG_BUFFER_MAX = 5
    now = timezone.now()
    for i in range(8):
        request_log.buffer.add((None, "GET", f"/api/v1/{i}/", 200, 1.0, "", f"r{i}", now))
    assert request_log.stats()["dropped"] == 3
    request_log.flush()
    assert sorted(ApiRequest.objects.values_list("request_id", flat=True)) == ["r3", "r4", "r5", "r6", "r7"]


def test_a_failed_flush_drops_its_batch_and_fails_no_request(monkeypatch):
    from django.db import OperationalError

    def broken(*args, **kwargs):
        raise OperationalError("database is away")

    monkeypatch.setattr(ApiRequest.objects, "bulk_create", broken)
    request_log.buffer.add((None, "GET", "/api/v1/x/", 200, 1.0, "", "r", timezone.now()))
    assert request_log.flush() == 0
    assert request_log.stats() == {"waiting": 0, "dropped": 1, "written": 0}


def test_a_forked_child_starts_empty():
    request_log.buffer.add((None, "GET", "/api/v1/x/", 200, 1.0, "", "r", timezone.now()))
    request_log.buffer._pid = -1  # as if this process were a child of the one that buffered the row
    request_log.buffer.add((None, "GET", "/api/v1/y/", 200, 1.0, "", "s", timezone.now()))
    assert len(request_log.buffer) == 1


def test_the_log_can_be_switched_off(key_and_secret, settings):
    settings.API_REQUEST_LOG_ENABLED = False
    _key, secret = key_and_secret
    ApiClient(secret).get("/api/v1/brands/")
    assert len(request_log.buffer) == 0


@pytest.mark.django_db(transaction=True)
def test_the_background_thread_writes_a_full_batch(settings):
    settings.API_REQUEST_LOG_BACKGROUND = True
    settings.API_REQUEST_LOG_BATCH_SIZE = 3
    now = timezone.now()
    for i in range(3):
        request_log.buffer.add((None, "GET", "/api/v1/brands/", 200, 1.0, "", f"t{i}", now))
    thread = request_log.buffer._thread
    assert thread is not None and thread.is_alive() and thread is not threading.current_thread()
    deadline = time.monotonic() + 10
    while ApiRequest.objects.count() < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ApiRequest.objects.count() == 3


def test_pruning_keeps_the_retention_period(settings):
    settings.API_REQUEST_LOG_RETENTION_DAYS = 7
    now = timezone.now()
    for days, request_id in ((1, "new"), (6, "kept"), (8, "old"), (40, "older")):
        request_log.buffer.add((None, "GET", "/api/v1/x/", 200, 1.0, "", request_id, now - timedelta(days=days)))
    request_log.flush()
    assert prune_request_log.delay().get() == 2
    assert sorted(ApiRequest.objects.values_list("request_id", flat=True)) == ["kept", "new"]


def test_pruning_is_scheduled_by_beat(settings):
    assert settings.CELERY_BEAT_SCHEDULE["api-prune-request-log"]["task"] == "api.prune_request_log"


# --- admin ---------------------------------------------------------------------------------------------------------


def _log(key, count: int, *, status: int = 200, request_id: str = "r"):
    now = timezone.now()
    for i in range(count):
        request_log.buffer.add(
            (key.pk if key else None, "GET", "/api/v1/products/", status, 2.5, "", f"{request_id}{i}", now)
        )
    request_log.flush()


def test_request_log_list_filters_and_search(admin_client, key_and_secret, django_assert_max_num_queries):
    key, _secret = key_and_secret
    _log(key, 30)
    _log(key, 4, status=429, request_id="limited")
    _log(None, 3, status=500, request_id="broken")
    url = reverse("admin:api_apirequest_changelist")
    with django_assert_max_num_queries(12):
        response = admin_client.get(url)
    assert response.status_code == 200
    with django_assert_max_num_queries(12):
        assert admin_client.get(url, {"outcome": "4xx"}).status_code == 200
    assert admin_client.get(url, {"outcome": "429"}).context["cl"].result_count == 4
    assert admin_client.get(url, {"outcome": "5xx"}).context["cl"].result_count == 3
    assert admin_client.get(url, {"key__id__exact": str(key.pk)}).context["cl"].result_count == 34
    found = admin_client.get(url, {"q": "limited2"})
    assert found.context["cl"].result_count == 1 and "limited2" in found.content.decode()
    assert admin_client.get(url, {"outcome": "nonsense"}).status_code in (200, 302)
    row = ApiRequest.objects.first()
    detail = admin_client.get(reverse("admin:api_apirequest_change", args=[row.pk]))
    assert detail.status_code == 200 and row.request_id in detail.content.decode()


def test_the_request_log_list_costs_the_same_queries_at_any_size(admin_client, key_and_secret):
    key, _secret = key_and_secret
    url = reverse("admin:api_apirequest_changelist")
    _log(key, 3)
    admin_client.get(url)
    with CaptureQueriesContext(connection) as small:
        admin_client.get(url)
    _log(key, 150, request_id="more")
    with CaptureQueriesContext(connection) as large:
        admin_client.get(url)
    assert len(large.captured_queries) == len(small.captured_queries)


def test_the_log_is_read_only_in_the_admin(admin_client):
    assert admin_client.get(reverse("admin:api_apirequest_add")).status_code == 403
    _log(None, 1)
    row = ApiRequest.objects.get()
    response = admin_client.post(reverse("admin:api_apirequest_delete", args=[row.pk]), {"post": "yes"})
    assert response.status_code == 403 and ApiRequest.objects.filter(pk=row.pk).exists()


def test_the_key_page_summarises_its_requests(admin_client, key_and_secret, django_assert_max_num_queries):
    key, _secret = key_and_secret
    _log(key, 6)
    _log(key, 2, status=429, request_id="throttled-")
    _log(key, 2, status=503, request_id="failed-")
    _log(None, 5, status=500, request_id="other-")
    with django_assert_max_num_queries(20):
        response = admin_client.get(reverse("admin:api_integrationkey_change", args=[key.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "10 requests, 4 errors (2 server errors), 2 rate limited" in page
    assert "Error rate 40.0 %" in page
    assert "throttled-1" in page and "other-" not in page
    assert f"key__id__exact={key.pk}&amp;outcome=429" in page


def test_a_deleted_key_leaves_its_rows(admin_client, make_key):
    key, _secret = make_key(name="short-lived")
    _log(key, 2)
    key.delete()
    assert ApiRequest.objects.filter(key__isnull=True).count() == 2
    assert admin_client.get(reverse("admin:api_apirequest_changelist")).status_code == 200


def test_nul_bytes_in_the_path_and_headers_are_logged_without_failing(key_and_secret):
    _key, secret = key_and_secret
    ApiClient(secret).get("/api/v1/products/sku/A%00B/", HTTP_IDEMPOTENCY_KEY="a\x00b")
    assert request_log.flush() == 1
    row = ApiRequest.objects.get()
    assert "\x00" not in row.path and "\x00" not in row.idempotency_key and row.status == 404
