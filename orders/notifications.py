"""Customer emails about an order, each sent at most once (the Notification row proves it was)."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from orders.models import Notification, Order

SUBJECTS = {
    "placed": lambda order: _("Your order %(number)s") % {"number": order.number},
    "shipped": lambda order: _("Your order %(number)s is on its way") % {"number": order.number},
    "cancelled": lambda order: _("Your order %(number)s was cancelled") % {"number": order.number},
}


def send_notification(order: Order, kind: str) -> bool:
    """Send the ``kind`` email for ``order`` unless it was sent already; True when sent now.

    The Notification row is written in the same transaction as the sending: if sending fails the
    row is rolled back and a retry sends; if two workers race, the unique constraint (and, on
    PostgreSQL, the row lock it waits on) lets exactly one of them send.
    """
    if kind not in SUBJECTS:
        raise ValueError(f"unknown notification kind {kind!r}")
    try:
        with transaction.atomic():
            Notification.objects.create(order=order, kind=kind, recipient=order.customer.email)
            _send(order, kind)
    except IntegrityError:
        return False  # already sent (or being sent) by someone else
    return True


def _send(order: Order, kind: str) -> None:
    with translation.override(settings.LANGUAGE_CODE):
        context = {"order": order, "customer": order.customer, "lines": list(order.lines.all())}
        message = EmailMultiAlternatives(
            subject=SUBJECTS[kind](order),
            body=render_to_string(f"orders/email/{kind}.txt", context),
            to=[order.customer.email],
        )
        message.attach_alternative(render_to_string(f"orders/email/{kind}.html", context), "text/html")
        message.send()
