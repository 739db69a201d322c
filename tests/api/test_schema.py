import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

pytestmark = pytest.mark.django_db

COMMITTED = Path(settings.BASE_DIR) / "docs" / "openapi.yaml"


def generate() -> str:
    out = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    return out.getvalue()


def test_the_schema_validates_without_warnings_and_the_committed_copy_is_current():
    schema = generate()
    assert COMMITTED.read_text() == schema, (
        "docs/openapi.yaml is stale: run `python manage.py spectacular --validate --fail-on-warn "
        "--file docs/openapi.yaml` and commit it"
    )


def test_every_operation_documents_problems_headers_and_idempotency():
    import yaml

    schema = yaml.safe_load(COMMITTED.read_text())
    assert schema["components"]["securitySchemes"]["IntegrationKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schema["components"]["securitySchemes"]["IntegrationKey"]["description"],
    }
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            for status in ("400", "401", "403", "404", "429"):
                assert "application/problem+json" in responses[status]["content"], (path, method, status)
            for response in responses.values():
                assert {"Request-Id", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"} <= set(
                    response["headers"]
                )
            assert "Retry-After" in responses["429"]["headers"]
            assert operation.get("x-required-scope"), (path, method)
            headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
            if method == "post":
                assert "Idempotency-Key" in headers and "409" in responses
            if method == "patch":
                assert "If-Match" in headers and "412" in responses


def test_schema_and_docs_are_served_with_self_hosted_assets(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200 and b"openapi: 3" in schema.content
    assert schema["RateLimit-Limit"] and schema["Request-Id"]
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "cdn" not in html.lower() and "/static/drf_spectacular_sidecar/" in html
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    csp = docs["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
