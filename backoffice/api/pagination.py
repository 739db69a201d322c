"""Our keyset paginator: pages follow ``(updated_at, id)`` compared as one tuple.

DRF's CursorPagination pages by an offset within a repeated timestamp, so it repeats or stalls when
thousands of rows share one ``updated_at`` (a bulk update does that). Here the cursor names the last row's
``(sort value, id)`` and the next page is ``WHERE (updated_at, id) > (v, id)``: no row missed or repeated,
whatever the ties, and rows written between two pages come at the end.
"""

from __future__ import annotations

import base64
import datetime
import uuid

import orjson
from django.db.models import F
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from backoffice.api.problems import ApiError

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 500
# Cursor-safe orderings: each is a unique key with its id tiebreak.
ORDERINGS = ("updated_at", "-updated_at", "created_at", "-created_at")
DEFAULT_ORDERING = "updated_at"


def _invalid(field: str, detail: str) -> ApiError:
    return ApiError(detail, errors=[{"field": field, "code": "invalid", "detail": detail}])


def page_size(params) -> int:
    raw = params.get("page_size")
    if raw is None:
        return DEFAULT_PAGE_SIZE
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 6 or not 1 <= int(raw) <= MAX_PAGE_SIZE:
        raise _invalid("page_size", _("page_size must be a whole number from 1 to %(max)s.") % {"max": MAX_PAGE_SIZE})
    return int(raw)


def ordering(params, allowed=ORDERINGS) -> str:
    raw = params.get("ordering", DEFAULT_ORDERING)
    if raw not in allowed:
        raise _invalid("ordering", _("ordering must be one of: %(allowed)s.") % {"allowed": ", ".join(allowed)})
    return raw


def encode_cursor(order: str, value, pk) -> str:
    payload = orjson.dumps([order, value.isoformat() if hasattr(value, "isoformat") else value, str(pk)])
    return base64.urlsafe_b64encode(payload).rstrip(b"=").decode()


def decode_cursor(raw: str, order: str) -> tuple[datetime.datetime, uuid.UUID]:
    bad = _invalid("cursor", _("The cursor is invalid; use the next_cursor of a previous page as it is."))
    if not raw or not raw.isascii() or len(raw) > 300:
        raise bad
    try:
        decoded = orjson.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        cursor_order, value, pk = decoded
        when = parse_datetime(value)
        pk = uuid.UUID(pk)
        if when is None or when.tzinfo is None:
            raise bad
        when = when.astimezone(datetime.UTC)  # PostgreSQL refuses offsets beyond 15:59
    except (ValueError, TypeError, OverflowError, orjson.JSONDecodeError):
        raise bad from None
    if cursor_order != order:
        raise _invalid(
            "cursor",
            _("This cursor belongs to ordering %(order)s; keep the ordering while paging.") % {"order": cursor_order},
        )
    return when, pk


class KeysetPage:
    """``paginate(queryset, params)`` -> the page's queryset slice; then ``next_cursor(rows)``."""

    def __init__(self, params, *, allowed_orderings=ORDERINGS):
        self.size = page_size(params)
        self.order = ordering(params, allowed_orderings)
        self.field = self.order.lstrip("-")
        self.descending = self.order.startswith("-")
        raw = params.get("cursor")
        self.after = decode_cursor(raw, self.order) if raw is not None else None
        self.has_more = False

    def paginate(self, queryset):
        if self.after is not None:
            lookup = TupleLessThan if self.descending else TupleGreaterThan
            # The redundant bound on the sort key alone lets the database range-scan its index (an OR of
            # "greater, or equal and a greater id", which SQLite makes of a tuple, cannot use it).
            bound = {f"{self.field}__{'lte' if self.descending else 'gte'}": self.after[0]}
            queryset = queryset.filter(**bound).filter(lookup(Tuple(F(self.field), F("id")), self.after))
        sign = "-" if self.descending else ""
        return queryset.order_by(f"{sign}{self.field}", f"{sign}id")[: self.size + 1]

    def trim(self, rows: list) -> list:
        """Drop the look-ahead row, remembering whether there is a next page."""
        self.has_more = len(rows) > self.size
        return rows[: self.size]

    def next_cursor(self, rows: list, *, id_key: str = "id", text_suffix: str = "") -> str | None:
        if not self.has_more or not rows:
            return None
        last = rows[-1]
        value = last[self.field + text_suffix]
        if isinstance(value, str):  # read as text (backoffice.api.values)
            from backoffice.api.values import datetime_text

            value = parse_datetime(datetime_text(value))
        return encode_cursor(self.order, value, uuid.UUID(str(last[id_key])))

    def envelope(self, request, results: list, rows: list, *, id_key: str = "id", text_suffix: str = "") -> dict:
        """``rows`` are the page's rows as read: the sort key (``<field><text_suffix>``) and ``id_key``."""
        cursor = self.next_cursor(rows, id_key=id_key, text_suffix=text_suffix)
        next_url = None
        if cursor is not None:
            params = request.query_params.copy()
            params["cursor"] = cursor
            next_url = request.build_absolute_uri(f"{request.path}?{params.urlencode()}")
        return {"results": results, "next_cursor": cursor, "next": next_url}
