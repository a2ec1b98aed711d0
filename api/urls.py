"""/api/v1/ (the resources), /api/schema/ (OpenAPI 3) and /api/docs/ (Swagger UI, local files)."""

from __future__ import annotations

from django.urls import include, path, re_path
from rest_framework.routers import SimpleRouter

from . import certificates, training, upload_templates, views
from .docs_views import SchemaView, SwaggerView

app_name = "api"

router = SimpleRouter()
router.register("units", views.UnitViewSet, basename="unit")
router.register("staff", views.StaffViewSet, basename="staff")
router.register("roster/syncs", views.RosterSyncViewSet, basename="roster-sync")
router.register("imports", views.ImportRecordViewSet, basename="import")
router.register("exams", views.ExamViewSet, basename="exam")
router.register(r"exams/(?P<id>[0-9]+)/not-sat", views.ExamNotSatViewSet, basename="exam-not-sat")
router.register("training/hours-below", training.HoursBelowViewSet, basename="hours-below")
router.register("events", views.EventViewSet, basename="event")
router.register(r"events/(?P<id>[0-9]+)/attendance", views.EventAttendanceViewSet, basename="event-attendance")
router.register("stats/participation", views.ParticipationViewSet, basename="participation")
router.register("reports/annual", views.AnnualReportViewSet, basename="annual-report")
router.register("reminders/jobs", views.ReminderJobViewSet, basename="reminder-job")
router.register("reminders", views.ReminderViewSet, basename="reminder")
router.register("certificates/imports", certificates.CertificateImportViewSet, basename="certificate-import")
router.register("certificates", certificates.CertificateViewSet, basename="certificate")
router.register(r"exams/(?P<id>[0-9]+)/renew-certificates", certificates.ExamRenewCertificatesViewSet,
                basename="exam-renew-certificates")

urlpatterns = [
    path("v1/auth/token/", views.TokenView.as_view(), name="auth-token"),
    path("v1/me/record/", views.MyRecordView.as_view(), name="me-record"),
    re_path(r"^v1/templates/(?P<kind>[^/]+)\.xlsx$", upload_templates.UploadTemplateView.as_view(), name="upload-template"),
    path("v1/events/<int:id>/signin-sheet.docx", training.SigninSheetView.as_view(), name="event-signin-sheet"),
    path("v1/", include(router.urls)),
    re_path(r"^v1/", views.not_found),
    # open in development; a signed-in user in production (API_DOCS_PUBLIC)
    path("schema/", SchemaView.as_view(), name="schema"),
    path("docs/", SwaggerView.as_view(url_name="api:schema"), name="docs"),
]
