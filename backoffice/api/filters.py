"""django-filter pieces every API list shares."""

from __future__ import annotations

import datetime

import django_filters
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as gettext_now
from django.utils.translation import gettext_lazy as _
from django_filters.fields import IsoDateTimeField
from django_filters.utils import translate_validation


class SafeIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time; one at the edge of the calendar (9999-12-31T23:59-23:59) is a 400, not an
    OverflowError while converting it to UTC."""

    def clean(self, value):
        try:
            cleaned = super().clean(value)
            # In UTC: PostgreSQL refuses offsets beyond 15:59 that Python accepts (+21:19), and an edge of the
            # calendar overflows here rather than in the database adapter.
            return cleaned.astimezone(datetime.UTC) if cleaned is not None else None
        except (OverflowError, ValueError):
            raise ValidationError(_("Enter a date and time between the years 1 and 9999."), code="invalid") from None


class IsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = SafeIsoDateTimeField


class ChoiceInFilter(django_filters.BaseInFilter, django_filters.ChoiceFilter):
    """Comma-separated choices: ``?status=draft,active``."""


def run_filterset(filterset_class, request, queryset, *, extra_params=()):
    """``filterset_class`` over ``request``'s query: invalid values, and filters given empty, are a 400."""
    from backoffice.api.problems import ApiError

    params = request.query_params
    empty = [name for name in (*filterset_class.base_filters, *extra_params) if params.get(name, None) == ""]
    if empty:
        detail = gettext_now("Leave the parameter out rather than sending it empty.")
        raise ApiError(detail, errors=[{"field": name, "code": "blank", "detail": detail} for name in empty])
    if not any(name in params for name in filterset_class.base_filters):
        return queryset  # building a FilterSet deep-copies every filter: skip it when none is used
    filterset = filterset_class(params, queryset=queryset, request=request)
    if not filterset.is_valid():
        raise translate_validation(filterset.errors)
    return filterset.qs


def choices_pattern(choices) -> str:
    """A pattern for a comma-separated list of choice values (documents ChoiceInFilter parameters)."""
    values = "|".join(value for value, _label in choices)
    return f"^({values})(,({values}))*$"
