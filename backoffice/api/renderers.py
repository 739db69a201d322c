"""JSON in and out through orjson (several times faster than the standard library on a page of 500 rows)."""

from __future__ import annotations

import datetime
import decimal
import uuid

import orjson
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer


def _default(value):
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, Promise):
        return str(value)
    if isinstance(value, uuid.UUID | datetime.datetime):
        return str(value)
    if hasattr(value, "code"):  # django-countries Country
        return value.code
    raise TypeError


def dumps(data) -> bytes:
    return orjson.dumps(data, default=_default)


class ORJSONRenderer(BaseRenderer):
    media_type = "application/json"
    format = "json"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if data is None:
            return b""
        return dumps(data)


class ORJSONParser(BaseParser):
    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ParseError(_("The body is not valid JSON: %(error)s") % {"error": exc}) from exc
