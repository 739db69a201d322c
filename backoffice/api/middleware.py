"""``/api/`` in front of Django: a ``Request-Id`` on every response, bodies over ``API_MAX_BODY_BYTES`` refused
with 413 before anything reads them, Django's own error pages (unknown URL, 500) as problem+json, and every
answer queued for the request log (``backoffice.api.request_log``)."""

from __future__ import annotations

import re
import time
import uuid

from django.conf import settings
from django.utils.translation import gettext as _

from backoffice.api import request_log
from backoffice.api.problems import PROBLEM_CONTENT_TYPE, problem_http_response

REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
API_PREFIX = "/api/"


def request_id_for(request) -> str:
    given = request.headers.get("Request-Id", "")
    return given if REQUEST_ID_RE.match(given) else uuid.uuid4().hex


class ApiMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        started = time.perf_counter()
        request.request_id = request_id_for(request)
        response = self._early_answer(request) or self.get_response(request)
        if response.status_code >= 400 and not _is_json(response):
            response = self._as_problem(request, response)
        response["Request-Id"] = request.request_id
        if request_log.enabled():
            request_log.record(request, response, started)
        return response

    def _early_answer(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if length < 0:
            return problem_http_response(400, request=request, detail=_("The Content-Length header is malformed."))
        limit = settings.API_MAX_BODY_BYTES
        if length > limit:
            return problem_http_response(
                413, request=request, detail=_("Request bodies are limited to %(limit)s bytes.") % {"limit": limit}
            )
        if not request.path_info.endswith("/"):
            # Every API URL ends with a slash; no redirect (a client would lose its body on a POST).
            return problem_http_response(
                404, request=request, detail=_("No such API URL; every API URL ends with a slash.")
            )
        return None

    def _as_problem(self, request, response):
        status = response.status_code
        headers = {
            name: response[name] for name in ("Allow", "Retry-After", "WWW-Authenticate") if response.has_header(name)
        }
        if status == 404:
            detail = _("No such API URL or object.")
        elif status == 400:
            detail = _("The request is malformed.")
        elif status >= 500:
            detail = _("The server failed to answer; the request id identifies it in the logs.")
        else:
            detail = ""
        return problem_http_response(status, request=request, detail=detail, headers=headers)


def _is_json(response) -> bool:
    content_type = response.get("Content-Type", "")
    return content_type.startswith(("application/json", PROBLEM_CONTENT_TYPE))
