"""The ASGI application: HTTP to Django, ``/ws/live/`` to the live consumer (backoffice.live).

Served by uvicorn in every mode (README, "Running it"); the in-memory channel layer of the embedded
default reaches only sockets of its own process, which a single uvicorn process is."""

import os

import django
from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")

# A batch of a synchronous streaming response read per trip to a worker thread.
STREAM_BATCH_BYTES = 256 * 1024


async def _batched(parts):
    iterator = iter(parts)

    def take() -> bytes:
        batch, size = [], 0
        for part in iterator:
            batch.append(part)
            size += len(part)
            if size >= STREAM_BATCH_BYTES:
                break
        return b"".join(batch)

    while chunk := await sync_to_async(take, thread_sensitive=False)():
        yield chunk


class StreamingASGIHandler(ASGIHandler):
    """Django's handler under ASGI reads a synchronous streaming response (a Job's export download,
    WhiteNoise's static files, media) whole into memory before sending it; this one sends it as it is
    read, a batch at a time, so memory stays flat whatever the file size."""

    async def send_response(self, response, send):
        if response.streaming and not response.is_async:
            response.streaming_content = _batched(response.streaming_content)
        await super().send_response(response, send)


django.setup(set_prefix=False)
django_application = StreamingASGIHandler()

# Imported once Django is set up: the router imports the consumer, which imports auth.
from backoffice.live.routing import build_application  # noqa: E402

application = build_application(django_application)
