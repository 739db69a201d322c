import hmac

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.http import Http404, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from backoffice.health import run_checks

# Longer than any name the media pipeline writes; a longer one cannot be a file of ours.
MAX_MEDIA_PATH = 512


def _may_see_details(request) -> bool:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_active and user.is_staff:
        return True
    token = settings.HEALTHZ_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token)


@never_cache
@require_GET
def healthz(request):
    """``ok``/``fail`` per component for anyone (load balancers); environment, backends and
    timings only for staff or a caller with ``Authorization: Bearer <HEALTHZ_TOKEN>``."""
    report = run_checks()
    status = 200 if report["status"] == "ok" else 503
    if not _may_see_details(request):
        report = {
            "status": report["status"],
            "checks": {name: "ok" if check["ok"] else "fail" for name, check in report["checks"].items()},
        }
    return JsonResponse(report, status=status)


def media(request, path: str):
    """Serve an uploaded file in demo mode (MEDIA_ROOT read per request, so tests may move it).
    A name the file system cannot even look up (too long, NUL byte) is a 404 like any missing file."""
    from django.views.static import serve

    if len(path) > MAX_MEDIA_PATH or "\x00" in path:
        raise Http404("No such file.")
    try:
        return serve(request, path, document_root=settings.MEDIA_ROOT)
    except (OSError, ValueError, SuspiciousFileOperation) as exc:
        raise Http404("No such file.") from exc
