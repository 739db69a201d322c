"""Live updates: the one way anything reaches a browser without a page load.

``publish(group, event)`` sends ``event`` (a JSON-able dict with a ``type``) to every socket in
``group`` once the current transaction commits; ``notify(user, ...)`` stores a Notification for one
person and pushes it to their sockets. Groups are in backoffice.live.groups; what is pushed when is
in backoffice.live.events; the socket side is backoffice.live.consumers."""

from __future__ import annotations

from django.db import transaction

EVENT = "live.event"  # the channel layer message type a consumer relays to its browser
CLOSE = "live.close"


def publish(group: str, event: dict) -> None:
    """Send ``event`` to ``group`` after commit (at once outside a transaction); never raises for a
    Redis outage, the pages fall back to polling."""
    from backoffice.live.publisher import send

    message = {"type": EVENT, "event": event}
    transaction.on_commit(lambda: send(group, message), robust=True)


def notify(user, *, title, body="", url="", level="info"):
    """Store a notification for ``user`` and push it to their open pages. ``url`` must be a path on
    this site of at most 500 characters (anything else is dropped); over-long texts are cut to what the
    columns hold."""
    from backoffice.live.groups import user_group
    from backoffice.live.models import Notification

    if level not in Notification.Level.values:
        raise ValueError(f"Unknown notification level {level!r}; use one of {Notification.Level.values}.")
    url = str(url or "")
    if not url.startswith("/") or url.startswith("//") or "\\" in url or len(url) > 500:
        url = ""  # a cut link would lead nowhere
    notification = Notification.objects.create(
        user=user, title=str(title)[:200], body=str(body or "")[:2000], url=url, level=level
    )
    publish(user_group(user.pk), {"type": "notification", "notification": notification.as_event()})
    return notification
