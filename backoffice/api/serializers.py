"""Input serializers every app's api.py builds on: strict about unknown fields, money as a decimal string."""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know (a typo is an error, not a silently ignored change). The schema says
    so too (``additionalProperties: false`` on every request body, see backoffice.api.schema)."""

    def unknown_field_message(self, name: str) -> str:
        return _("Unknown field.")

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            known = {name for name, field in self.fields.items() if not field.read_only}
            unknown = [name for name in data if name not in known]
            if unknown:
                raise serializers.ValidationError(
                    {
                        str(name)[:100]: [ErrorDetail(self.unknown_field_message(name), code="unknown_field")]
                        for name in unknown[:20]
                    }
                )
        return super().to_internal_value(data)


MONEY_PATTERN = r"^[0-9]{1,10}(\.[0-9]{1,2})?$"


@extend_schema_field({"type": "string", "format": "decimal", "pattern": MONEY_PATTERN, "example": "12.50"})
class MoneyField(serializers.DecimalField):
    """A non-negative amount with at most two decimals, sent and answered as a string ("12.50")."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 12)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("min_value", 0)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)
