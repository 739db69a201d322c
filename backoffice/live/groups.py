"""Which live groups a person's socket joins: their own, plus one per area their permissions open.

Channel layer group names allow ASCII letters, digits, hyphens, underscores and periods only."""

from hashlib import sha256

JOBS = "jobs"
ORDERS = "orders"
CATALOG = "catalog"
MEDIA = "media"

# group -> any one of these permissions lets a person join it
GROUP_PERMISSIONS = {
    JOBS: ("backoffice.view_job", "backoffice.change_job"),
    ORDERS: ("orders.view_order", "orders.change_order"),
    CATALOG: ("catalog.view_product", "catalog.change_product"),
    MEDIA: ("media_pipeline.view_imageasset", "media_pipeline.change_imageasset"),
}


def user_group(user_id) -> str:
    return f"user.{user_id}"


def session_tag(session_key: str | None) -> str:
    """A session named in events without sending its key around."""
    return sha256((session_key or "").encode()).hexdigest()[:32]


def allowed_groups(user) -> list[str]:
    """The groups of an active staff member; an empty list for anyone else (the socket is refused)."""
    if not (user is not None and user.is_authenticated and user.is_active and user.is_staff):
        return []
    groups = [user_group(user.pk)]
    groups += [name for name, perms in GROUP_PERMISSIONS.items() if any(user.has_perm(p) for p in perms)]
    return groups
