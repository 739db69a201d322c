"""The sidebar's badges: one count query each, shown by the navigation (backoffice.navigation) and
pushed live to the group allowed to see it (backoffice.live.tasks.push_badges).

This module sits with the composition root (like urls.py): it counts rows of every app, so models
are looked up by label when a badge is computed rather than imported."""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from backoffice.live import groups

# Orders the back office has to act on: paid ones to process, processing ones to ship.
ORDERS_WAITING_STATUSES = ("paid", "processing")


def orders_waiting() -> int:
    return apps.get_model("orders", "Order").objects.filter(status__in=ORDERS_WAITING_STATUSES).count()


def low_stock_products() -> int:
    return apps.get_model("catalog", "Product").objects.active().low_stock().count()


def failed_images() -> int:
    model = apps.get_model("media_pipeline", "ImageAsset")
    return model.objects.filter(status=model.Status.FAILED).count()


def running_jobs() -> int:
    return apps.get_model("backoffice", "Job").objects.active().count()


@dataclass(frozen=True)
class Badge:
    name: str
    title: object
    group: str  # the live group that may see it (backoffice.live.groups.GROUP_PERMISSIONS)
    changelist: str  # the sidebar link it sits on
    count: object

    @property
    def link(self) -> str:
        return reverse(self.changelist)


BADGES = {
    "orders": Badge(
        "orders", _("Orders waiting for action"), groups.ORDERS, "admin:orders_order_changelist", orders_waiting
    ),
    "low_stock": Badge(
        "low_stock", _("Low-stock products"), groups.CATALOG, "admin:catalog_product_changelist", low_stock_products
    ),
    "failed_images": Badge(
        "failed_images", _("Failed images"), groups.MEDIA, "admin:media_pipeline_imageasset_changelist", failed_images
    ),
    "jobs": Badge("jobs", _("Running jobs"), groups.JOBS, "admin:backoffice_job_changelist", running_jobs),
}


def label(count: int) -> str:
    """What the sidebar shows: nothing for zero."""
    return str(count) if count else ""


def _sidebar(name: str):
    badge = BADGES[name]
    perms = groups.GROUP_PERMISSIONS[badge.group]

    def callback(request) -> str:
        if not any(request.user.has_perm(p) for p in perms):
            return ""
        # Every admin page draws the sidebar: a count over a large table on each page view would
        # cost more than the page. The live push keeps open pages current between refreshes.
        count = cache.get_or_set(f"badge:{name}", badge.count, settings.BADGE_CACHE_SECONDS)
        return label(count)

    callback.__name__ = f"{name}_badge"
    return callback


orders_waiting_badge = _sidebar("orders")
low_stock_badge = _sidebar("low_stock")
failed_images_badge = _sidebar("failed_images")
active_jobs_badge = _sidebar("jobs")
