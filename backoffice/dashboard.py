"""The dashboard (Unfold's ``DASHBOARD_CALLBACK``); the sidebar badges are in backoffice.badges.

The dashboard is a composition root like ``urls.py``: it reads each app's figures (``orders.sales``,
``catalog`` and ``media_pipeline`` querysets, Jobs) and shows each person only the sections their permissions
allow. A section's figures are plain numbers, dates and names, cached for ``DASHBOARD_CACHE_SECONDS`` under a
key that names the section and the day; they hold no translated text, so one entry serves every language and
every person allowed to see that section. Labels, formatting and links are added per request.
"""

import json
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.html import format_html
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from backoffice.formatting import money
from backoffice.models import Job

# --- figures (cached, language-neutral) ----------------------------------------------------------------------


def _sales(today) -> dict:
    from orders import sales

    return {
        "figures": sales.sales_figures(today),
        "waiting": sales.waiting_orders(),
        "top": sales.top_products(today),
        "latest": sales.latest_orders(),
    }


def _catalog(today) -> dict:
    from catalog.models import Product

    low = Product.objects.active().low_stock()  # the partial index product_low_stock
    return {
        "low_stock": low.count(),
        "lowest": list(
            low.order_by("stock", "sku").values("pk", "sku", "name", "stock", "low_stock_threshold")[:LOWEST_STOCK]
        ),
    }


def _images(today) -> dict:
    from media_pipeline.models import ImageAsset

    return {"failed": ImageAsset.objects.filter(status=ImageAsset.Status.FAILED).count()}


def _jobs(today) -> dict:
    since = timezone.now() - timedelta(hours=24)
    return Job.objects.aggregate(
        active=Count("pk", filter=Q(status__in=Job.ACTIVE_STATUSES)),
        with_errors=Count("pk", filter=Q(finished_at__gte=since, status__in=[Job.Status.PARTIAL, Job.Status.FAILED])),
    )


LOWEST_STOCK = 8
# section -> (the permission that shows it: app label, model), the function computing its figures
SECTIONS = {
    "sales": (("orders", "order"), _sales),
    "catalog": (("catalog", "product"), _catalog),
    "images": (("media_pipeline", "imageasset"), _images),
    "jobs": (("backoffice", "job"), _jobs),
}


def _can_view(user, app_label: str, model: str) -> bool:
    return user.has_perm(f"{app_label}.view_{model}") or user.has_perm(f"{app_label}.change_{model}")


def visible_sections(user) -> list[str]:
    return [name for name, ((app_label, model), _compute) in SECTIONS.items() if _can_view(user, app_label, model)]


def section_figures(name: str, today) -> dict:
    """The figures of one section, from the cache when they are young enough."""
    key = f"dashboard:v1:{name}:{today.isoformat()}"
    figures = cache.get(key)
    if figures is None:
        figures = SECTIONS[name][1](today)
        cache.set(key, figures, settings.DASHBOARD_CACHE_SECONDS)
    return figures


def _today():
    return timezone.localdate(timezone=timezone.get_default_timezone())  # the day the rollup counts in


def dashboard_figures(user) -> dict:
    """Every section this person may see, by name."""
    today = _today()
    return {name: section_figures(name, today) for name in visible_sections(user)}


# --- presentation (per request: translated labels, formatted numbers, links) ---------------------------------


def dashboard_callback(request, context: dict) -> dict:
    # The finished cards, charts and tables are cached too, per set of sections, language and time zone: building
    # them (labels, dates, links, chart JSON) costs more than reading the cached figures.
    today, sections = _today(), visible_sections(request.user)
    key = ":".join(
        (
            "dashboard:v1:page",
            "-".join(sections) or "none",
            get_language() or "",
            timezone.get_current_timezone_name(),
            today.isoformat(),
        )
    )
    page = cache.get(key)
    if page is None:
        page = _present({name: section_figures(name, today) for name in sections})
        cache.set(key, page, settings.DASHBOARD_CACHE_SECONDS)
    context.update(page)
    return context


def _present(figures: dict) -> dict:
    kpis, charts, tables = [], [], []
    if "sales" in figures:
        _present_sales(figures["sales"], kpis, charts, tables)
    if "catalog" in figures:
        _present_catalog(figures["catalog"], kpis, tables)
    if "images" in figures:
        kpis.append(
            _kpi(
                _("Failed images"),
                number_format(figures["images"]["failed"], force_grouping=True),
                reverse("admin:media_pipeline_imageasset_changelist") + "?status__exact=failed",
                icon="broken_image",
            )
        )
    if "jobs" in figures:
        jobs_url = reverse("admin:backoffice_job_changelist")
        kpis += [
            _kpi(_("Jobs running or queued"), figures["jobs"]["active"], jobs_url, icon="pending_actions"),
            _kpi(
                _("Jobs failed or with errors (24 h)"),
                figures["jobs"]["with_errors"],
                jobs_url + "?status__exact=failed",
                icon="error",
            ),
        ]
    return {"kpis": kpis, "charts": charts, "tables": tables}


def _kpi(title, value, href: str = "", *, change: str = "", trend: str = "", icon: str = "") -> dict:
    return {"title": title, "value": value, "href": href, "change": change, "trend": trend, "icon": icon}


def _nowrap(content) -> dict:
    """A table cell kept on one line (Unfold's table takes a dict with content and class)."""
    return {"content": content, "class": "whitespace-nowrap"}


# period -> its title, the change against the period before ("+12.5 %" filled in), and the words for "no revenue
# in the period before" (a percentage of nothing means nothing)
PERIODS = (
    (
        "today",
        lambda: _("Revenue today"),
        lambda change: _("%(change)s vs. yesterday") % {"change": change},
        lambda: _("none yesterday"),
    ),
    (
        "7d",
        lambda: _("Revenue, last 7 days"),
        lambda change: _("%(change)s vs. the 7 days before") % {"change": change},
        lambda: _("none in the 7 days before"),
    ),
    (
        "30d",
        lambda: _("Revenue, last 30 days"),
        lambda change: _("%(change)s vs. the 30 days before") % {"change": change},
        lambda: _("none in the 30 days before"),
    ),
)


def _change(now: Decimal, before: Decimal, versus, none_before) -> tuple[str, str]:
    """The change as text and its direction for the colour."""
    if not before:
        return (none_before(), "up") if now else ("", "")
    percent = (now - before) * 100 / before
    sign = "+" if percent > 0 else ""
    trend = "up" if percent > 0 else ("down" if percent < 0 else "")
    return versus(f"{sign}{number_format(percent, 1)} %"), trend


def _present_sales(sales: dict, kpis: list, charts: list, tables: list) -> None:
    from orders.models import Order

    figures = sales["figures"]
    revenue = figures["revenue"]
    zero = (Decimal("0"), Decimal("0"))
    # The currency with the most revenue over 30 days leads; others are listed after it.
    currencies = sorted(revenue, key=lambda c: (-revenue[c].get("30d", zero)[0], c)) or [
        Order._meta.get_field("currency").default
    ]
    orders_url = reverse("admin:orders_order_changelist")
    for period, title, versus, none_before in PERIODS:
        lead = revenue.get(currencies[0], {}).get(period, zero)
        change, trend = _change(*lead, versus, none_before)
        value = " · ".join(money(revenue.get(c, {}).get(period, zero)[0], c) for c in currencies)
        kpis.append(
            _kpi(
                title(),
                value,
                orders_url,
                change=change,
                trend=trend,
                icon="payments",
            )
        )
    labels = dict(Order.Status.choices)
    for status, count in sorted(sales["waiting"].items(), key=lambda item: list(labels).index(item[0])):
        kpis.append(
            _kpi(
                _("Orders waiting: %(status)s") % {"status": labels[status]},
                number_format(count, force_grouping=True),
                f"{orders_url}?status__exact={status}",
                icon="shopping_cart",
            )
        )
    day_labels = [date_format(day, "MONTH_DAY_FORMAT") for day in figures["days"]]
    charts.append(
        {
            "kind": "line",
            "title": _("Revenue per day, last 30 days"),
            "description": _("Paid orders, not cancelled or returned, by the day they were placed."),
            "data": json.dumps(
                {
                    "labels": day_labels,
                    "datasets": [
                        {
                            "label": currency,
                            "data": [float(v) for v in figures["revenue_per_day"].get(currency, [0] * len(day_labels))],
                            "borderColor": COLOURS[i % len(COLOURS)],
                            "displayYAxis": True,
                            "maxTicksXLimit": 8,
                        }
                        for i, currency in enumerate(currencies[:3])
                    ],
                }
            ),
        }
    )
    by_status = figures["orders_by_status"]
    charts.append(
        {
            "kind": "bar",
            "title": _("Orders by status, placed in the last 30 days"),
            "description": "",
            "data": json.dumps(
                {
                    "labels": [str(label) for label in labels.values()],
                    "datasets": [
                        {
                            "label": str(_("Orders")),
                            "data": [by_status.get(status, 0) for status in labels],
                            "backgroundColor": COLOURS[0],
                            "displayYAxis": True,
                        }
                    ],
                }
            ),
        }
    )
    top = sales["top"]
    most = max((row["units_sold"] for row in top), default=0)
    charts.append(
        {
            "kind": "progress",
            "title": _("Top products by units, last 30 days"),
            "description": "",
            "items": [
                {
                    "title": f"{row['product__sku']} · {row['product__name']}",
                    "description": number_format(row["units_sold"], force_grouping=True),
                    "value": round(row["units_sold"] * 100 / most) if most else 0,
                }
                for row in top
            ],
        }
    )
    tables.append(
        {
            "title": _("Latest orders"),
            "live_new_orders": True,
            "table": {
                "headers": [_("Order"), _("Customer"), _("Status"), _("Total"), _("Placed at")],
                "rows": [
                    [
                        _nowrap(
                            format_html(
                                '<a class="text-primary-600 dark:text-primary-500" href="{}">{}</a>',
                                reverse("admin:orders_order_change", args=[row["pk"]]),
                                row["number"],
                            )
                        ),
                        row["customer__name"],
                        str(labels.get(row["status"], row["status"])),
                        _nowrap(money(row["total"], row["currency"])),
                        _nowrap(date_format(timezone.localtime(row["placed_at"]), "SHORT_DATETIME_FORMAT")),
                    ]
                    for row in sales["latest"]
                ],
            },
        }
    )


def _present_catalog(catalog: dict, kpis: list, tables: list) -> None:
    products_url = reverse("admin:catalog_product_changelist")
    kpis.append(
        _kpi(
            _("Low-stock products"),
            number_format(catalog["low_stock"], force_grouping=True),
            f"{products_url}?low_stock=yes&status__exact=active",
            icon="inventory",
        )
    )
    tables.append(
        {
            "title": _("Lowest stock"),
            "table": {
                "headers": [_("SKU"), _("Product"), _("Stock"), _("Threshold")],
                "rows": [
                    [
                        format_html(
                            '<a class="text-primary-600 dark:text-primary-500" href="{}">{}</a>',
                            reverse("admin:catalog_product_change", args=[row["pk"]]),
                            row["sku"],
                        ),
                        row["name"],
                        number_format(row["stock"], force_grouping=True),
                        number_format(row["low_stock_threshold"], force_grouping=True),
                    ]
                    for row in catalog["lowest"]
                ],
            },
        }
    )


COLOURS = ("var(--color-primary-600)", "var(--color-primary-300)", "var(--color-base-400)")
