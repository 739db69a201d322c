"""Cell text rules shared by every import and export.

**Formula injection.** A text cell that a spreadsheet would run as a formula (it starts with ``=``, ``+``,
``-``, ``@``, tab, CR or NUL) is exported with a leading ``'``. Text that already starts with quotes before
such a character gets one more, so that on import exactly one leading ``'`` before such a character is removed
and an unchanged round trip stays unchanged (``'-5`` stays ``'-5``, ``+49 30 1234`` comes back as itself).
Typed numbers and dates are never touched (they are not text).

**Decimals.** One rule, in :func:`parse_decimal`: at most one separator, a point or a comma, which is the
decimal separator (``1234.5`` and ``1234,5`` are the same number). Thousands separators (a second separator,
spaces, apostrophes) are refused with a message saying how to write the number.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from import_export import widgets

TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\x00")
_NEEDS_QUOTE = re.compile(r"'*[=+\-@\t\r\x00]")


def escape_formula(value):
    """The export form of a cell: text that a spreadsheet would evaluate gets a leading quote."""
    if isinstance(value, str) and _NEEDS_QUOTE.match(value):
        return "'" + value
    return value


def unescape_formula(value):
    """The exact inverse of :func:`escape_formula`: one leading quote before a trigger is removed."""
    if isinstance(value, str) and value.startswith("'") and _NEEDS_QUOTE.match(value, 1):
        return value[1:]
    return value


def is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


_DECIMAL = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)")


def parse_decimal(value) -> Decimal:
    """See the module docstring. Numbers typed in a spreadsheet arrive as numbers and are taken as they are."""
    if isinstance(value, bool):
        raise ValidationError(_("Enter a number."), code="invalid")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, Decimal):
        return value
    text = str(value).strip()
    if not _DECIMAL.fullmatch(text):
        raise ValidationError(
            _(
                "“%(value)s” is not a number this import reads: write it with digits and one decimal separator "
                "(a point or a comma) and without thousands separators, e.g. 1234.50."
            )
            % {"value": text[:40]},
            code="invalid_decimal",
        )
    try:
        return Decimal(text.replace(",", "."))
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits only valid numbers
        raise ValidationError(_("Enter a number."), code="invalid") from exc


def parse_integer(value) -> int:
    number = parse_decimal(value)
    if number != number.to_integral_value():
        raise ValidationError(_("“%(value)s” is not a whole number.") % {"value": value}, code="invalid_integer")
    return int(number)


# --- widgets: what the resources use, so exports and imports share one representation ----------------------


class TextWidget(widgets.CharWidget):
    def clean(self, value, row=None, **kwargs):
        if value is None:
            return ""
        return unescape_formula(value if isinstance(value, str) else str(value))

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else str(value)


class DecimalWidget(widgets.Widget):
    """Plain ``1234.50`` in CSV (never localised, so it reads back the same); a real number in XLSX."""

    def clean(self, value, row=None, **kwargs):
        return None if is_blank(value) else parse_decimal(value)

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return "" if not kwargs.get("force_native_type") else None
        return value if kwargs.get("force_native_type") else str(value)


class IntegerWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        return None if is_blank(value) else parse_integer(value)

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return "" if not kwargs.get("force_native_type") else None
        return value if kwargs.get("force_native_type") else str(value)


class BooleanWidget(widgets.Widget):
    TRUE = {"1", "true", "yes", "y", "x"}
    FALSE = {"0", "false", "no", "n", ""}

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)):
            return bool(value)
        text = "" if value is None else str(value).strip().lower()
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise ValidationError(_("Write 1 or 0 (yes or no), not “%(value)s”.") % {"value": str(value)[:40]})

    def render(self, value, obj=None, **kwargs):
        if kwargs.get("force_native_type"):
            return bool(value)
        return "1" if value else "0"


class DateTimeWidget(widgets.Widget):
    """``YYYY-MM-DD HH:MM:SS`` in the site's time zone in CSV; a real (naive, local) date cell in XLSX."""

    FORMAT = "%Y-%m-%d %H:%M:%S"
    INPUT_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d")

    def clean(self, value, row=None, **kwargs):
        if is_blank(value):
            return None
        if isinstance(value, datetime):
            parsed = value
        elif isinstance(value, date):
            parsed = datetime(value.year, value.month, value.day)
        else:
            text = str(value).strip()
            for fmt in self.INPUT_FORMATS:
                try:
                    parsed = datetime.strptime(text, fmt)
                    break
                except ValueError:
                    continue
            else:
                raise ValidationError(
                    _("“%(value)s” is not a date; write it as 2025-01-31 14:30:00.") % {"value": text[:40]}
                )
        if settings.USE_TZ and timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed)
        return parsed

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return None if kwargs.get("force_native_type") else ""
        if settings.USE_TZ and timezone.is_aware(value):
            value = timezone.localtime(value)
        value = value.replace(microsecond=0)
        if kwargs.get("force_native_type"):
            return value.replace(tzinfo=None)
        return value.strftime(self.FORMAT)


class LookupWidget(widgets.Widget):
    """A related row named by one of ``fields`` (tried in order, ignoring case), rendered by ``render_field``.
    Look-ups are cached per widget, so a file of 100,000 rows asks once per distinct name."""

    def __init__(self, model, *, fields, render_field, queryset=None):
        super().__init__()
        self.model, self.fields, self.render_field = model, tuple(fields), render_field
        self.queryset = queryset
        self._cache: dict = {}

    def get_queryset(self):
        return self.queryset if self.queryset is not None else self.model._default_manager.all()

    def clean(self, value, row=None, **kwargs):
        if is_blank(value):
            return None
        text = unescape_formula(str(value)).strip()
        key = text.lower()
        if key not in self._cache:
            self._cache[key] = self._find(text)
        found = self._cache[key]
        if found is None:
            raise ValidationError(
                _("No %(model)s “%(value)s” (looked up by %(fields)s).")
                % {"model": self.model._meta.verbose_name, "value": text[:80], "fields": ", ".join(self.fields)},
                code="not_found",
            )
        return found

    def _find(self, text):
        for field in self.fields:
            matches = list(self.get_queryset().filter(**{f"{field}__iexact": text})[:2])
            if len(matches) == 1:
                return matches[0]
        return None

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        return str(getattr(value, self.render_field))


class NamesWidget(widgets.Widget):
    """Many-to-many by names, comma separated, sorted; unknown names are an error (nothing is created)."""

    separator = ","

    def __init__(self, model, *, field="name"):
        super().__init__()
        self.model, self.field = model, field
        self._cache: dict | None = None

    def clean(self, value, row=None, **kwargs):
        if is_blank(value):
            return []
        if self._cache is None:
            self._cache = {str(getattr(obj, self.field)).lower(): obj for obj in self.model._default_manager.all()}
        names = [name.strip() for name in unescape_formula(str(value)).split(self.separator) if name.strip()]
        missing = [name for name in names if name.lower() not in self._cache]
        if missing:
            raise ValidationError(
                _("Unknown %(model)s: %(names)s.")
                % {"model": self.model._meta.verbose_name_plural, "names": ", ".join(missing[:10])},
                code="not_found",
            )
        return list({self._cache[name.lower()].pk: self._cache[name.lower()] for name in names}.values())

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        objects = value.all() if hasattr(value, "all") else value
        return self.render_names(str(getattr(item, self.field)) for item in objects)

    def render_names(self, names) -> str:
        return f"{self.separator} ".join(sorted(names, key=str.lower))
