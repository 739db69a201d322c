from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from backoffice.health import run_checks


@never_cache
@require_GET
def healthz(request):
    report = run_checks()
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)


def media(request, path: str):
    """Serve an uploaded file in demo mode (MEDIA_ROOT read per request, so tests may move it)."""
    from django.conf import settings
    from django.views.static import serve

    return serve(request, path, document_root=settings.MEDIA_ROOT)
