"""What each admin URL and action requires: the classification the role x URL walk checks.

Every admin registered on the site needs an entry in ``ADMINS`` (its label -> ``Rules``). Its standard
views are classified for it (``STANDARD``); what it adds must be listed:

- ``urls``: every URL its ``get_urls()`` adds (custom views, Unfold detail/row actions), by the part of the
  URL name after ``<app_label>_<model_name>_``;
- ``actions``: every changelist action (``get_actions()`` of a superuser plus the declared ``actions``);
- ``never``: standard views the admin refuses to everyone, superusers included (``"add"``, ``"change"`` for
  the save of the change form, ``"delete"``).

A requirement is a verb on the admin's own model (``"view"``, ``"add"``, ``"change"``, ``"delete"``,
``"import"``, ``"export"``, ``"history"`` = view on its history model), a full permission
(``"catalog.export_product"``), a tuple (all of them), ``AnyOf(...)`` or ``NEVER``.

An admin with nothing of its own is one line: ``"webhooks.Endpoint": Rules()``; ``make`` creates a row for
its object URLs when the walk's world has none.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.apps import apps


class AnyOf(tuple):
    """Any one of the requirements is enough."""

    def __new__(cls, *items):
        return super().__new__(cls, items)


NEVER = AnyOf()  # any of nothing: refused to everyone

# The standard views of every ModelAdmin, by URL name suffix. The change view is probed twice: GET (seeing
# the object, "view") and its save (a POST, and the Save button, "change").
STANDARD = {
    "changelist": "view",
    "add": "add",
    "change": "view",
    "delete": "delete",
    "history": "history",
    "simple_history": "history",  # one version of the history (django-simple-history)
}

# Import batches are shown to whoever may import something, their pages to whoever may import what they hold
# (the walk's batch holds products).
ANY_IMPORT = AnyOf(
    "catalog.import_product",
    "catalog.import_category",
    "catalog.import_brand",
    "catalog.import_supplier",
    "orders.import_customer",
)
PRODUCT_BATCH = ("backoffice.view_importbatch", "catalog.import_product")
IMPORT_EXPORT = {"import": "import", "import_example": "import", "export": "export"}


@dataclass(frozen=True)
class Rules:
    urls: dict = field(default_factory=dict)
    actions: dict = field(default_factory=dict)
    never: tuple[str, ...] = ()
    standard: dict = field(default_factory=dict)  # a standard view that requires something else
    make: object = None  # world -> a row of the model, when the walk's world() does not make one
    post_only: tuple[str, ...] = ()  # custom URLs that only answer a POST (a GET is 405): probed with a POST


ADMINS: dict[str, Rules] = {
    "auth.User": Rules(urls={"password_change": "change"}, actions={"delete_selected": "delete"}),
    "auth.Group": Rules(actions={"delete_selected": "delete"}),
    "backoffice.Job": Rules(
        urls={
            "progress": "view",
            "download": ("view", "catalog.export_product"),  # the walk's job holds a product export
            "cancel_detail": "change",
            "retry_detail": "change",
        },
        actions={"cancel_selected": "change", "delete_selected": "delete"},
        never=("add", "change"),
    ),
    "backoffice.ImportBatch": Rules(
        urls=dict.fromkeys(("map", "preview", "confirm", "validate", "failed", "undo"), PRODUCT_BATCH),
        never=("add", "change", "delete"),
        standard={
            "changelist": AnyOf("view", ANY_IMPORT),
            "change": PRODUCT_BATCH,  # the change page is the batch's preview
            "history": AnyOf("view", ANY_IMPORT),
        },
    ),
    "api.IntegrationKey": Rules(actions={"revoke": "change", "delete_selected": "delete"}),
    "api.ApiRequest": Rules(
        never=("add", "change", "delete"),  # written by the API's request log only
        make=lambda world: apps.get_model("api", "ApiRequest").objects.create(
            key=world["api.IntegrationKey"], method="GET", path="/api/v1/products/", status=200, latency_ms=3.0
        ),
    ),
    "axes.AccessAttempt": Rules(
        urls={"unlock_detail": "delete"},
        actions={"unlock_selected": "delete", "delete_selected": "delete"},
        never=("add", "change"),  # written by django-axes on failed logins
        make=lambda world: apps.get_model("axes", "AccessAttempt").objects.create(
            username="walk", ip_address="198.51.100.1", user_agent="walk", failures_since_start=1
        ),
    ),
    "axes.AccessLog": Rules(
        never=("add", "change", "delete"),  # the login log is an audit trail
        make=lambda world: apps.get_model("axes", "AccessLog").objects.create(
            username="walk", ip_address="198.51.100.1", user_agent="walk"
        ),
    ),
    "webhooks.WebhookEndpoint": Rules(
        urls={"redeliver": "change", "test": "change", "rotate": "change"},
        actions={"delete_selected": "delete"},
        post_only=("redeliver", "test", "rotate"),
        make=lambda world: _endpoint(world),
    ),
    "webhooks.Delivery": Rules(
        actions={"redeliver": "webhooks.change_webhookendpoint"},
        never=("add", "change", "delete"),  # written by the outbox
        make=lambda world: _webhooks().send_test_event(_endpoint(world)),
    ),
    "webhooks.DeliveryAttempt": Rules(
        never=("add", "change", "delete"),
        make=lambda world: apps.get_model("webhooks", "DeliveryAttempt").objects.create(
            delivery=world.get("webhooks.Delivery") or _webhooks().send_test_event(_endpoint(world)), number=1
        ),
    ),
    "media_pipeline.ImageAsset": Rules(
        urls={"regenerate_detail": "change"},
        actions={"regenerate_selected": "change", "delete_selected": "delete"},
    ),
    "catalog.Product": Rules(
        urls={**IMPORT_EXPORT, "adjust_stock": "change"},
        actions={
            "change_prices": "change",
            "add_tags": "change",
            "remove_tags": "change",
            "activate": "change",
            "archive": "change",
            "regenerate_images": "change",
            "soft_delete_selected": "delete",
            "restore_selected": "change",
            "export_admin_action": "export",
        },
        never=("delete",),  # products are soft-deleted through the bulk action, never for good
    ),
    "catalog.Category": Rules(
        urls=IMPORT_EXPORT, actions={"export_admin_action": "export", "delete_selected": "delete"}
    ),
    "catalog.Brand": Rules(urls=IMPORT_EXPORT, actions={"export_admin_action": "export", "delete_selected": "delete"}),
    "catalog.Supplier": Rules(
        urls=IMPORT_EXPORT, actions={"export_admin_action": "export", "delete_selected": "delete"}
    ),
    "catalog.Tag": Rules(actions={"delete_selected": "delete"}),
    "catalog.StockMovement": Rules(never=("add", "change", "delete")),  # the ledger is written by services only
    "orders.Order": Rules(
        urls={
            "place": "add",
            "packing_slip": "view",
            "packing_slip_link": "view",
            "import": NEVER,  # orders come from the API and the admin, not from sheets
            "import_example": NEVER,
            "export": "export",
            "mark_paid": "change",
            "ship": "change",
            "deliver": "change",
            "cancel": "change",
        },
        actions={
            "mark_paid_selected": "change",
            "ship_selected": "change",
            "cancel_selected": "change",
            "export_admin_action": "export",
        },
        never=("delete",),  # orders are cancelled, never deleted
    ),
    "orders.Customer": Rules(
        urls=IMPORT_EXPORT, actions={"export_admin_action": "export", "delete_selected": "delete"}
    ),
}


def _webhooks():
    from backoffice.webhooks import services

    return services


def _endpoint(world):
    """The walk's endpoint (world() allows a private address: nothing is sent, the test never commits)."""
    model = apps.get_model("webhooks", "WebhookEndpoint")
    endpoint = world.get("webhooks.WebhookEndpoint") or model.objects.first()
    if endpoint is None:
        endpoint, _secret = _webhooks().create_endpoint(url="https://127.0.0.1:9/hooks", events=["product.updated"])
    return endpoint


# Custom URL parameters other than the object id, by URL name suffix.
ARGS = {
    "import_example": lambda model_admin: {
        "resource": model_admin.import_resources[0].replace(".", "-") if model_admin.import_resources else "none",
        "fmt": "csv",
    },
}
