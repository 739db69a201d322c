"""Form fields and widgets every app shares, for input typed or crafted by hand.

``StrictIntegerField``: an integer written with ASCII digits only. Python's ``int()`` (and so
Django's ``IntegerField``) also takes Arabic-Indic, Devanagari, full-width... digits, underscores
and ``1.0``; a stock change, an API quantity or an imported cell must not.

``SafeAutocompleteSelect`` / ``SafeAutocompleteSelectMultiple``: Django's autocomplete widgets
look the submitted values up in the database to render the chosen options again. A value that is
not a valid id (``not-a-uuid``) made that lookup raise, so the form page was a 500 instead of a
form error. These drop such values before the lookup; the form field reports them as usual.
"""

import re

from django import forms
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Optional sign, ASCII digits only. 18 digits fit a 64-bit integer; bounds are the field's business.
_STRICT_INT = re.compile(r"[+-]?[0-9]{1,18}")


def parse_strict_int(value) -> int:
    """``value`` as an int if it is one written in ASCII digits (surrounding spaces allowed),
    else ``ValueError``. For the API and importers, which are not Django forms."""
    if isinstance(value, bool):
        raise ValueError("not an integer")
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if not _STRICT_INT.fullmatch(text):
        raise ValueError("not an integer written in ASCII digits")
    return int(text)


class StrictIntegerField(forms.IntegerField):
    default_error_messages = {
        "invalid": _("Enter a whole number using the digits 0-9, with an optional sign."),
    }

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return parse_strict_int(value)
        except ValueError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


def _valid_ids(widget, values) -> list:
    """The submitted values that the remote field can hold; the rest are dropped before a query."""
    remote_field = widget.field.remote_field
    opts = remote_field.model._meta
    target = opts.get_field(getattr(remote_field, "field_name", None) or opts.pk.attname)
    kept = []
    for value in values:
        if value in (None, ""):
            kept.append(value)
            continue
        if "\x00" in str(value):
            continue
        try:
            target.to_python(value)
            target.get_prep_value(target.to_python(value))
        except (ValidationError, ValueError, TypeError, OverflowError):
            continue
        kept.append(value)
    return kept


class SafeAutocompleteMixin:
    def optgroups(self, name, value, attr=None):
        return super().optgroups(name, _valid_ids(self, value or []), attr)


class SafeAutocompleteSelect(SafeAutocompleteMixin, AutocompleteSelect):
    pass


class SafeAutocompleteSelectMultiple(SafeAutocompleteMixin, AutocompleteSelectMultiple):
    pass
