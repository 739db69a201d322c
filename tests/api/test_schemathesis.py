"""Schemathesis over the whole schema, in-process through the WSGI app: a real key holding every scope, the
default checks, a bounded number of examples per operation, positive and negative data. No server error, no
response that breaks the schema.

It runs in CI like every other test (``-m "not e2e"``). Operations are driven through schemathesis's Python
API (``from_wsgi`` + ``APIOperation.as_strategy``) rather than its pytest plugin, whose lazy loader does not
work with the installed pytest 9 (it reads ``Function._nodeid``)."""

import json

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.api.conftest import ALL_SCOPES
from tests.factories import CustomerFactory, ProductFactory

MAX_EXAMPLES = 12

pytestmark = pytest.mark.django_db

# A schema can say what is well formed, not what exists or is free: these 400s answer schema-valid data by design
# (an id naming nothing, an SKU or email already taken, a name only a new customer needs, an address part that
# leaves the stored address incomplete, a cursor the server did not issue).
SEMANTIC_CODES = frozenset({"does_not_exist", "sku_taken", "email_taken", "required_to_create", "incomplete_address"})
OPAQUE_FIELDS = frozenset({"cursor"})


class RejectedValidData(AssertionError):
    pass


def semantic_positive_acceptance(ctx, response, case):
    """schemathesis's positive_data_acceptance, except that a 400 naming only semantic errors passes; 412 and
    422 (preconditions and business rules on well-formed data) pass too."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return None
    status = response.status_code
    if status < 400 or status in (401, 403, 404, 409, 412, 422, 429):
        return None
    if status == 400:
        errors = json.loads(response.content)["errors"]
        if errors and all(e["code"] in SEMANTIC_CODES or e["field"] in OPAQUE_FIELDS for e in errors):
            return None
    raise RejectedValidData(f"schema-valid request answered {status}: {response.content[:1000]!r}")


@pytest.fixture
def keep_test_connection():
    """Like Django's test client: the WSGI app must not close the test's database connection after a request
    (the test runs in a transaction; on PostgreSQL a closed connection fails every later request)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_every_operation_answers_within_its_schema(make_key, keep_test_connection):
    ProductFactory.create_batch(3)
    CustomerFactory.create_batch(2)
    _key, secret = make_key(ALL_SCOPES, name="schemathesis")
    headers = {"Authorization": f"Bearer {secret}"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())

    failures = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 14
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=MAX_EXAMPLES,
                deadline=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
                database=None,
            )
            def run(case):
                case.call_and_validate(
                    headers=headers,
                    excluded_checks=[positive_data_acceptance],
                    additional_checks=[semantic_positive_acceptance],
                )

            try:
                run()
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001  (collect every failure, report them all)
                failures[f"{operation.label} [{mode.value}]"] = str(exc)[:3000]
    assert not failures, "\n\n".join(f"{label}:\n{detail}" for label, detail in failures.items())
