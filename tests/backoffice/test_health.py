import pytest

from backoffice import health

pytestmark = pytest.mark.django_db


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "locks", "broker"}
    assert all(check["ok"] for check in body["checks"].values())


def test_healthz_reports_a_failing_dependency_with_503(client, monkeypatch):
    def down():
        raise ConnectionError("redis://:s3cret@10.0.0.1:6379 refused")

    monkeypatch.setitem(health.CHECKS, "cache", down)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["checks"]["cache"] == {"ok": False, "detail": "ConnectionError", "ms": body["checks"]["cache"]["ms"]}
    assert "s3cret" not in response.content.decode()


def test_healthz_needs_no_login_and_is_not_cached(client):
    response = client.get("/healthz")
    assert "no-cache" in response.headers["Cache-Control"] or "max-age=0" in response.headers["Cache-Control"]


def test_healthz_with_real_services(client, needs_redis):
    from backoffice.celery import app

    app.conf.task_always_eager = False
    body = client.get("/healthz").json()
    assert body["checks"]["broker"] == {**body["checks"]["broker"], "ok": True, "detail": "redis"}
    assert body["checks"]["locks"]["detail"] == "RedisCache"
