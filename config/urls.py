from django.contrib import admin
from django.urls import include, path

from .views import healthz, metrics, readyz

admin.site.site_header = "干部学法考试管理系统"
admin.site.site_title = "干部学法考试管理系统"
admin.site.index_title = "管理后台"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
    path("signin/", include("training.urls")),
    path("api/", include("api.urls")),  # --- REST API
    path("scim/v2/", include("scim.urls")),  # --- SCIM 2.0 (HR's identity system)
    path("", include("web.urls")),  # --- web pages
]

# the site's own error pages in Chinese (JSON under /api/); see web/views/errors.py
handler400 = "web.views.errors.bad_request"
handler403 = "web.views.errors.permission_denied"
handler404 = "web.views.errors.page_not_found"
handler500 = "web.views.errors.server_error"
