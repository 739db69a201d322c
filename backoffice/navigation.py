"""The admin sidebar, grouped by area. Each item shows only to users allowed to see its model;
a group with nothing left to show is dropped."""

from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _


def _can_view(app_label: str, model: str):
    def check(request) -> bool:
        user = request.user
        return user.has_perm(f"{app_label}.view_{model}") or user.has_perm(f"{app_label}.change_{model}")

    return check


def _model_item(title, icon: str, app_label: str, model: str, **extra) -> dict:
    return {
        "title": title,
        "icon": icon,
        "link": reverse_lazy(f"admin:{app_label}_{model}_changelist"),
        "permission": _can_view(app_label, model),
        **extra,
    }


def _groups() -> list[dict]:
    return [
        {
            "title": _("Overview"),
            "items": [
                {"title": _("Dashboard"), "icon": "dashboard", "link": reverse_lazy("admin:index")},
            ],
        },
        {
            "title": _("Orders"),
            "items": [
                _model_item(
                    _("Orders"), "shopping_cart", "orders", "order", badge="backoffice.badges.orders_waiting_badge"
                ),
                _model_item(_("Customers"), "group", "orders", "customer"),
            ],
        },
        {
            "title": _("Catalog"),
            "items": [
                _model_item(
                    _("Products"), "inventory_2", "catalog", "product", badge="backoffice.badges.low_stock_badge"
                ),
                _model_item(_("Categories"), "account_tree", "catalog", "category"),
                _model_item(_("Brands"), "sell", "catalog", "brand"),
                _model_item(_("Suppliers"), "local_shipping", "catalog", "supplier"),
                _model_item(_("Tags"), "label", "catalog", "tag"),
                _model_item(_("Stock movements"), "swap_vert", "catalog", "stockmovement"),
            ],
        },
        {
            "title": _("Media"),
            "items": [
                _model_item(
                    _("Images"),
                    "photo_library",
                    "media_pipeline",
                    "imageasset",
                    badge="backoffice.badges.failed_images_badge",
                ),
            ],
        },
        {
            "title": _("Jobs"),
            "items": [
                _model_item(
                    _("Jobs"), "pending_actions", "backoffice", "job", badge="backoffice.badges.active_jobs_badge"
                ),
            ],
        },
        {
            "title": _("Integrations"),
            "items": [
                _model_item(_("Integration keys"), "key", "api", "integrationkey"),
                _model_item(_("API request log"), "receipt_long", "api", "apirequest"),
                _model_item(_("Webhooks"), "webhook", "webhooks", "webhookendpoint"),
                _model_item(_("Webhook deliveries"), "outbox", "webhooks", "delivery"),
            ],
        },
        {
            "title": _("Users & roles"),
            "items": [
                _model_item(_("Users"), "person", "auth", "user"),
                _model_item(_("Roles"), "groups", "auth", "group"),
                _model_item(_("Login attempts"), "lock_person", "axes", "accessattempt"),
                _model_item(_("Login log"), "login", "axes", "accesslog"),
            ],
        },
    ]


def sidebar_navigation(request) -> list[dict]:
    navigation = []
    for group in _groups():
        items = [item for item in group["items"] if item.get("permission", lambda r: True)(request)]
        if items:
            navigation.append({**group, "separator": True, "collapsible": False, "items": items})
    return navigation
