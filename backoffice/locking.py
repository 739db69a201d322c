"""The one lock order of the project."""


def lock_in_order(queryset) -> list:
    """Lock the rows of ``queryset`` in primary-key order and return them.

    Every writer that locks several rows (placing an order, cancelling it, bulk stock changes) goes
    through here, so two transactions locking overlapping sets always queue behind each other and
    never deadlock. Call it inside ``transaction.atomic``.
    """
    return list(queryset.select_for_update().order_by("pk"))
