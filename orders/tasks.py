from celery import shared_task
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from backoffice.jobs import job_kind
from orders import services
from orders.models import Order
from orders.notifications import send_notification


@shared_task(
    name="orders.send_notification",
    acks_late=True,
    autoretry_for=(OSError,),  # SMTP and network trouble; the Notification row keeps it to one email
    retry_backoff=True,
    max_retries=8,
)
def send_order_notification(order_id: str, kind: str) -> str:
    order = Order.objects.select_related("customer").filter(pk=order_id).first()
    if order is None:
        return "gone"
    return "sent" if send_notification(order, kind) else "already sent"


def _order(item_id: str) -> Order:
    order = Order.objects.filter(pk=item_id).first()
    if order is None:
        raise ValidationError(_("The order no longer exists."))
    return order


@job_kind("orders.mark_paid", label=_("Mark orders paid"), chunk_size=100)
def mark_paid_item(job, item_id: str) -> None:
    services.transition(_order(item_id), Order.Status.PAID, user=job.requested_by)


@job_kind("orders.ship", label=_("Ship orders"), chunk_size=100)
def ship_item(job, item_id: str) -> None:
    services.transition(
        _order(item_id),
        Order.Status.SHIPPED,
        user=job.requested_by,
        carrier=job.params.get("carrier", ""),
        tracking_number=job.params.get("tracking_number", ""),
    )


@job_kind("orders.cancel", label=_("Cancel orders"), chunk_size=100)
def cancel_item(job, item_id: str) -> None:
    services.transition(_order(item_id), Order.Status.CANCELLED, user=job.requested_by)
