"""The ASGI application: HTTP to Django, ``/ws/live/`` to the live consumer (backoffice.live).

Served by uvicorn in every mode (README, "Running it"); the in-memory channel layer of the embedded
default reaches only sockets of its own process, which a single uvicorn process is."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")
# Django is set up here, before the router imports the consumer.
django_application = get_asgi_application()

from backoffice.live.routing import build_application  # noqa: E402

application = build_application(django_application)
