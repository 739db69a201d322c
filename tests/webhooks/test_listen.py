"""``manage.py webhook_listen`` verifies what our sender signs, and refuses what it did not sign."""

import io
import threading
import time
import urllib.error
import urllib.request

import pytest
from django.core.management import CommandError, call_command

from backoffice.webhooks import dispatch, emit
from backoffice.webhooks.management.commands import webhook_listen
from backoffice.webhooks.models import DeliveryAttempt
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def listener(make_endpoint):
    """webhook_listen's handler on a free port, with an endpoint's secret."""
    from http.server import ThreadingHTTPServer

    lines: list[str] = []
    servers = []

    def start(secret):
        server = ThreadingHTTPServer(
            ("127.0.0.1", 0), webhook_listen.make_handler([secret], lines.append, tolerance=300)
        )
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}/"

    yield start, lines
    for server in servers:
        server.shutdown()
        server.server_close()


def test_listener_verifies_and_prints_our_events(listener, make_endpoint):
    start, lines = listener
    endpoint = make_endpoint("http://127.0.0.1:9/placeholder")
    url = start(endpoint.secret)
    type(endpoint).objects.filter(pk=endpoint.pk).update(url=url)
    product = ProductFactory(sku="LISTEN-1")
    emit("product.updated", product)
    dispatch.freeze()
    dispatch.sweep(5)
    assert DeliveryAttempt.objects.get().status_code == 204
    assert any("product.updated" in line and "LISTEN-1" in line for line in lines)


def test_listener_refuses_a_wrong_signature(listener):
    from backoffice.webhooks.signing import new_secret, sign

    start, lines = listener
    url = start(new_secret())
    body = b'{"type":"x"}'
    now = int(time.time())
    request = urllib.request.Request(
        url,
        data=body,
        headers={
            "webhook-id": "evt_1",
            "webhook-timestamp": str(now),
            "webhook-signature": sign(new_secret(), msg_id="evt_1", timestamp=now, body=body),
        },
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    assert refused.value.code == 401
    assert lines and lines[-1].startswith("REFUSED")


def test_command_needs_a_valid_secret():
    with pytest.raises(CommandError):
        call_command("webhook_listen", stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("webhook_listen", "--secret", "nope", stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("webhook_listen", "--endpoint", "not-a-uuid", stdout=io.StringIO())
