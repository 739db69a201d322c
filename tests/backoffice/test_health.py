import pytest

from backoffice import health

pytestmark = pytest.mark.django_db


def test_healthz_ok(client, staff_user):
    client.force_login(staff_user)
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "locks", "broker"}
    assert all(check["ok"] for check in body["checks"].values())


def test_healthz_anonymous_sees_only_ok_or_fail(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": dict.fromkeys(health.CHECKS, "ok")}
    assert "environment" not in response.content.decode()


def test_healthz_anonymous_sees_a_failing_dependency_as_fail(client, monkeypatch):
    def down():
        raise ConnectionError("refused")

    monkeypatch.setitem(health.CHECKS, "cache", down)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["cache"] == "fail"


def test_healthz_reports_a_failing_dependency_with_503(client, staff_user, monkeypatch):
    client.force_login(staff_user)

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


def test_healthz_with_real_services(client, staff_user, needs_redis):
    client.force_login(staff_user)
    from backoffice.celery import app

    app.conf.task_always_eager = False
    body = client.get("/healthz").json()
    assert body["checks"]["broker"] == {**body["checks"]["broker"], "ok": True, "detail": "redis"}
    assert body["checks"]["locks"]["detail"] == "RedisCache"
