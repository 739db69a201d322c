"""django-filter pieces every API list shares."""

from __future__ import annotations

import datetime

import django_filters
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django_filters.fields import IsoDateTimeField


class SafeIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time; one at the edge of the calendar (9999-12-31T23:59-23:59) is a 400, not an
    OverflowError while converting it to UTC."""

    def clean(self, value):
        try:
            cleaned = super().clean(value)
            if cleaned is not None:
                cleaned.astimezone(datetime.UTC)  # what the database adapter will do
            return cleaned
        except (OverflowError, ValueError):
            raise ValidationError(_("Enter a date and time between the years 1 and 9999."), code="invalid") from None


class IsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = SafeIsoDateTimeField


class ChoiceInFilter(django_filters.BaseInFilter, django_filters.ChoiceFilter):
    """Comma-separated choices: ``?status=draft,active``."""
