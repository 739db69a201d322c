"""The API docs page in a real browser: Swagger UI from the self-hosted assets, no CSP violation."""

import pytest

from tests.e2e.conftest import browser, login, page  # noqa: F401  (fixtures)
from tests.factories import UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_swagger_ui_renders_every_operation_under_the_csp(live_server, page):  # noqa: F811
    login(page, live_server, UserFactory(is_staff=True, is_superuser=True))
    external = []
    page.on(
        "request", lambda request: None if request.url.startswith(live_server.url) else external.append(request.url)
    )
    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".opblock", timeout=15_000)
    operations = page.locator(".opblock").count()
    assert operations >= 15
    assert external == []
    assert [error for error in page.csp_errors if "Content Security Policy" in error or "Refused" in error] == []
