import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def manage(*args, **env):
    environment = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_DEBUG"}}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


def test_production_refuses_to_start_without_secret_key():
    result = manage("check", DJANGO_DEBUG="0", ALLOWED_HOSTS="bo.example.com")
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DJANGO_DEBUG is off" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    result = manage("check", DJANGO_DEBUG="0", SECRET_KEY=secrets.token_urlsafe(50))
    assert result.returncode != 0
    assert "ALLOWED_HOSTS must be set" in result.stderr


def test_deploy_check_is_clean_in_production():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="bo.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_visibility_timeout_must_outlast_tasks():
    result = manage("check", CELERY_BROKER_VISIBILITY_TIMEOUT="30", CELERY_TASK_TIME_LIMIT="60")
    assert result.returncode != 0
    assert "CELERY_BROKER_VISIBILITY_TIMEOUT must be longer" in result.stderr


@pytest.mark.django_db
def test_csp_header_on_admin(client):
    response = client.get("/admin/login/")
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]


def test_media_on_s3_compatible_storage_by_configuration():
    probe = (
        "from django.conf import settings; from django.core.files.storage import default_storage as s; "
        "print(s.url('x') and type(s._wrapped).__name__); print(s.url('variants/ab/1/thumb.webp')); "
        "print(' '.join(settings.CONTENT_SECURITY_POLICY['DIRECTIVES']['img-src']))"
    )
    result = manage(
        "shell",
        "-c",
        probe,
        MEDIA_S3_BUCKET="shop-media",
        MEDIA_S3_ENDPOINT_URL="https://minio.example.com:9000",
        MEDIA_S3_ACCESS_KEY_ID="key",
        MEDIA_S3_SECRET_ACCESS_KEY="secret",
    )
    assert result.returncode == 0, result.stderr
    backend, url, img_src = result.stdout.strip().splitlines()[-3:]
    assert backend == "S3Storage"
    assert url.startswith("https://minio.example.com:9000/shop-media/variants/ab/1/thumb.webp?")
    assert "Signature" in url  # private bucket: signed, expiring URLs
    assert "https://minio.example.com:9000" in img_src.split()  # previews allowed by the CSP


@pytest.mark.django_db
def test_sqlite_writers_wait_for_the_lock_instead_of_failing():
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] >= 5000  # web and worker share the file; a writer waits its turn
