from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers and reaches its database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: database, migrations, broker, workers (per queue) and beat; 200 or 503."""
    from ops.readiness import readiness

    ready, report = readiness()
    response = JsonResponse(report, status=200 if ready else 503, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "no-store"
    return response


def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text format. With ``METRICS_TOKEN`` set, only for ``Authorization: Bearer
    <token>``; unset, open in development and 404 in production."""
    import hmac

    from django.conf import settings
    from prometheus_client import CONTENT_TYPE_LATEST

    from ops.metrics import DatabaseCollector

    from .metrics import exposition

    token = settings.METRICS_TOKEN
    if not token:
        if settings.PRODUCTION:
            raise Http404
    else:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            response = HttpResponse("需要 METRICS_TOKEN（Authorization: Bearer <令牌>）。\n", status=401,
                                    content_type="text/plain; charset=utf-8")
            response["WWW-Authenticate"] = "Bearer"
            return response
    response = HttpResponse(exposition(DatabaseCollector()), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response
