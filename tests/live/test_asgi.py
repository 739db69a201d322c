"""The ASGI app streams synchronous streaming responses in batches instead of reading them whole."""

import warnings

import pytest
from asgiref.sync import async_to_sync
from django.http import FileResponse, HttpResponse

from backoffice.asgi import STREAM_BATCH_BYTES, StreamingASGIHandler, application


def test_a_file_response_is_sent_in_bounded_batches(tmp_path):
    data = bytes(range(256)) * 4096 * 3  # 3 MiB
    path = tmp_path / "export.csv"
    path.write_bytes(data)
    response = FileResponse(path.open("rb"))
    sent = []

    async def send(message):
        sent.append(message)

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Django's "must consume synchronous iterators" would be raised
        async_to_sync(StreamingASGIHandler().send_response)(response, send)
    bodies = [m["body"] for m in sent if m["type"] == "http.response.body" and m.get("body")]
    assert b"".join(bodies) == data
    assert len(bodies) >= len(data) // (STREAM_BATCH_BYTES + 64 * 1024)


def test_plain_responses_are_unchanged():
    sent = []

    async def send(message):
        sent.append(message)

    async_to_sync(StreamingASGIHandler().send_response)(HttpResponse(b"hello"), send)
    assert b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body") == b"hello"


@pytest.mark.django_db
def test_the_application_routes_http_to_django():
    from channels.testing.http import HttpCommunicator

    from tests.live.channels_testing import WebsocketCommunicator  # noqa: F401 - registers channels.testing

    communicator = HttpCommunicator(application, "GET", "/healthz", headers=[(b"host", b"testserver")])
    response = async_to_sync(communicator.get_response)(timeout=10)
    assert response["status"] == 200
