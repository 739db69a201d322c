"""Problem bodies for every status, Request-Id, throttling, and bad input that must never be a 500."""

import base64

import pytest
from django.core.cache import caches

from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/products/"
# A well-formed cursor whose time has an offset PostgreSQL refuses (+21:19).
OFFSET_CURSOR = base64.urlsafe_b64encode(
    b'["updated_at","2026-01-01T00:00:00+21:19","6b7297f2-5a98-4506-8cb1-6fa37a770bba"]'
).decode()


def assert_problem(response, status: int):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert set(body) == {"type", "title", "status", "detail", "request_id", "errors"}
    assert body["status"] == status and body["title"] and body["type"].startswith("urn:backoffice:problem:")
    assert body["request_id"] == response["Request-Id"]
    for error in body["errors"]:
        assert set(error) == {"field", "code", "detail"}
    return body


def test_problem_bodies_for_each_status(api, api_for, anon, settings):
    product = ProductFactory(sku="A-1", stock=0)
    assert_problem(api.post(PRODUCTS, {"sku": ""}), 400)
    assert_problem(anon.get(PRODUCTS), 401)
    assert_problem(api_for("orders:read").get(PRODUCTS), 403)
    assert_problem(api.get("/api/v1/nothing-here/"), 404)
    assert_problem(api.get(f"{PRODUCTS}00000000-0000-0000-0000-000000000000/"), 404)
    not_allowed = assert_problem(api.delete(f"{PRODUCTS}{product.pk}/"), 405)
    assert not_allowed["status"] == 405
    response = api.delete(f"{PRODUCTS}{product.pk}/")
    assert response["Allow"] == "GET, PATCH, HEAD"
    assert_problem(api.options(PRODUCTS, HTTP_AUTHORIZATION=f"Bearer {api.secret}"), 405)
    assert_problem(api.get(PRODUCTS, HTTP_ACCEPT="text/html"), 406)
    assert_problem(api.patch(f"{PRODUCTS}{product.pk}/", {"name": "x"}, HTTP_IF_MATCH='"stale"'), 412)
    settings.API_MAX_BODY_BYTES = 100
    assert_problem(api.post(PRODUCTS, {"description": "x" * 200}), 413)
    settings.API_MAX_BODY_BYTES = 2_000_000
    assert_problem(api.post(PRODUCTS, "sku=x", content_type="application/x-www-form-urlencoded"), 415)
    body = assert_problem(
        api.post("/api/v1/stock/adjustments/", {"adjustments": [{"sku": "A-1", "delta": -1, "reason": "sale"}]}), 422
    )
    assert body["errors"][0]["field"] == "adjustments[0].delta"
    settings.API_RATE_LIMIT_PER_KEY = 0
    assert_problem(api.get(PRODUCTS), 429)


def test_every_response_carries_a_request_id_taken_from_the_request_when_valid(api, anon):
    given = api.get("/api/v1/brands/", HTTP_REQUEST_ID="abc.DEF-123_x")
    assert given["Request-Id"] == "abc.DEF-123_x"
    for bad in ("has space", "x" * 65, "ä", "a\x00"):
        generated = api.get("/api/v1/brands/", HTTP_REQUEST_ID=bad)
        assert generated["Request-Id"] != bad and len(generated["Request-Id"]) == 32
    assert anon.get("/api/v1/brands/")["Request-Id"]
    assert api.get("/api/v1/nothing/")["Request-Id"]


def test_rate_limit_headers_on_every_response_and_429_with_retry_after(api, settings):
    settings.API_RATE_LIMIT_PER_KEY = 3
    caches["locks"].clear()
    seen = []
    for _ in range(3):
        response = api.get("/api/v1/brands/")
        assert response.status_code == 200
        seen.append(int(response["RateLimit-Remaining"]))
        assert response["RateLimit-Limit"] == "3" and 1 <= int(response["RateLimit-Reset"]) <= 60
    assert seen == [2, 1, 0]
    limited = api.get("/api/v1/brands/")
    assert_problem(limited, 429)
    assert 1 <= int(limited["Retry-After"]) <= 60 and limited["RateLimit-Remaining"] == "0"


def test_requests_without_a_key_are_limited_per_ip_even_when_they_fail(anon, settings):
    settings.API_RATE_LIMIT_PER_IP = 2
    caches["locks"].clear()
    assert anon.get(PRODUCTS).status_code == 401
    assert anon.get(PRODUCTS, HTTP_AUTHORIZATION="Bearer guess").status_code == 401
    assert_problem(anon.get(PRODUCTS, HTTP_AUTHORIZATION="Bearer guess-again"), 429)
    assert anon.get(PRODUCTS, REMOTE_ADDR="10.0.0.9").status_code == 401
    spoofed = anon.get(PRODUCTS, HTTP_X_FORWARDED_FOR="203.0.113.7")  # no trusted proxy: still 127.0.0.1
    assert spoofed.status_code == 429


def test_behind_trusted_proxies_the_forwarded_address_is_limited(anon, settings):
    settings.API_RATE_LIMIT_PER_IP = 1
    settings.API_TRUSTED_PROXY_COUNT = 1
    caches["locks"].clear()
    assert anon.get(PRODUCTS, HTTP_X_FORWARDED_FOR="spoof, 198.51.100.1").status_code == 401
    assert anon.get(PRODUCTS, HTTP_X_FORWARDED_FOR="other-spoof, 198.51.100.1").status_code == 429
    assert anon.get(PRODUCTS, HTTP_X_FORWARDED_FOR="198.51.100.2").status_code == 401


def test_the_rate_limiter_fails_closed(api, monkeypatch):
    def broken(*args, **kwargs):
        raise ConnectionError("redis down")

    monkeypatch.setattr(caches["locks"], "incr", broken)
    monkeypatch.setattr(caches["locks"], "add", broken)
    response = api.get("/api/v1/brands/")
    assert_problem(response, 503)
    assert response["Retry-After"]


@pytest.mark.parametrize(
    "params",
    [
        {"search": "a\x00b"},
        {"status": "\x00"},
        {"category": "\x00"},
        {"brand": "9" * 400},
        {"updated_since": "9999-12-31T23:59:59-23:59"},
        {"updated_since": "0001-01-01T00:00:00+14:00"},
        {"updated_since": "1e308"},
        {"updated_since": "0498-11-24T15:48:56.4+21:19"},
        {"cursor": OFFSET_CURSOR},
        {"in_stock": "\x00"},
        {"sku__in": "\x00," * 10},
        {"cursor": "%00"},
        {"page_size": "1" * 5000},
        {"search": "x" * 5000},
    ],
)
def test_hostile_query_parameters_are_never_a_500(api, params):
    ProductFactory()
    response = api.get(PRODUCTS, params)
    assert response.status_code in (200, 400), (params, response.content)
    if response.status_code == 400:
        assert_problem(response, 400)


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b"\x00\x01",
        b'{"sku": "a\\u0000"}',
        b"[]",
        b"123",
        b'{"price": 1e999999}',
        b'{"price": "NaN", "sku": "x", "name": "x"}',
        b'{"price": "Infinity"}',
        b'{"weight_grams": 99999999999999999999999999999}',
        b'{"published_at": "9999-12-31T23:59:59-23:59"}',
        b'{"tags": "notalist"}',
        b"\xff\xfe",
    ],
)
def test_hostile_bodies_are_never_a_500(api, body):
    response = api.generic(
        "POST", PRODUCTS, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {api.secret}"
    )
    assert_problem(response, 400)


def test_wrong_content_types_and_bad_lengths(api):
    for content_type in ("text/plain", "application/xml", "multipart/form-data; boundary=x"):
        response = api.generic(
            "POST", PRODUCTS, b"{}", content_type=content_type, HTTP_AUTHORIZATION=f"Bearer {api.secret}"
        )
        assert_problem(response, 415)
    bad_length = api.generic(
        "POST",
        PRODUCTS,
        b"{}",
        content_type="application/json",
        CONTENT_LENGTH="-5",
        HTTP_AUTHORIZATION=f"Bearer {api.secret}",
    )
    assert_problem(bad_length, 400)


def test_urls_without_a_trailing_slash_are_404_problems_even_for_post(api):
    assert_problem(api.post("/api/v1/products", {}), 404)


def test_put_customer_with_hostile_email_in_the_path(api):
    for email in ("a%00@example.com", "x" * 300 + "@example.com", "%F0%9F%92%A9@example.com"):
        response = api.put(f"/api/v1/customers/by-email/{email}/", {"name": "x"})
        assert response.status_code in (400, 404), email
