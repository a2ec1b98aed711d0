from django.urls import path

from .views import (
    auth,
    certificates,
    corrections,
    dashboard,
    events,
    exams,
    imports,
    people,
    records,
    reminders,
    reports,
    roster,
    scim,
    training,
    upload_templates,
)

app_name = "web"

urlpatterns = [
    path("", auth.home, name="home"),
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth.LogoutView.as_view(next_page="web:login"), name="logout"),
    # unit dashboard
    path("units/", dashboard.dashboard_start, name="dashboard"),
    path("units/<str:code>/", dashboard.dashboard_page, name="unit_dashboard"),
    # roster (hr)
    path("roster/", roster.roster_upload, name="roster"),
    path("roster/scim/", scim.scim_guard, name="scim_guard"),
    path("roster/syncs/<int:pk>/", roster.roster_sync_page, name="roster_sync"),
    path("roster/syncs/<int:pk>/changes/", roster.roster_sync_changes, name="roster_sync_changes"),
    path("roster/syncs/<int:pk>/changes.xlsx", roster.roster_sync_changes_xlsx, name="roster_sync_changes_xlsx"),
    path("roster/syncs/<int:pk>/progress/", roster.roster_sync_progress, name="roster_sync_progress"),
    path("roster/syncs/<int:pk>/confirm/", roster.roster_sync_confirm_view, name="roster_sync_confirm"),
    path("roster/syncs/<int:pk>/undo/", roster.roster_sync_undo_view, name="roster_sync_undo"),
    # staff search and a person's page (hr, legal_office; a liaison: their subtree)
    path("people/", people.people_page, name="people"),
    path("people/<str:staff_no>/", people.person_page, name="person"),
    # exams
    path("exams/", exams.exams_page, name="exams"),
    path("exams/new/", exams.exam_new, name="exam_new"),
    path("exams/<int:pk>/", exams.exam_page, name="exam"),
    path("exams/<int:pk>/imports/<str:kind>/", exams.exam_upload, name="exam_upload"),
    # corrections (each audited): an exam, its exemptions
    path("exams/<int:pk>/edit/", corrections.exam_edit, name="exam_edit"),
    path("exams/<int:pk>/delete/", corrections.exam_delete_page, name="exam_delete"),
    path("exams/<int:pk>/exemptions/", corrections.exemptions_page, name="exam_exemptions"),
    path("exams/<int:pk>/exemptions/<str:staff_no>/lift/", corrections.exemption_lift_page, name="exemption_lift"),
    path("exams/<int:pk>/not-sat/", exams.not_sat_start, name="not_sat_start"),
    path("exams/<int:pk>/not-sat/<str:code>/", exams.not_sat_page, name="not_sat"),
    path("exams/<int:pk>/not-sat/<str:code>/xlsx/", exams.not_sat_download, name="not_sat_xlsx"),
    # imports (results, exemptions, sign-in sheets)
    path("templates/<str:kind>.xlsx", upload_templates.template_download, name="upload_template"),
    path("imports/<int:pk>/", imports.import_page, name="import"),
    path("imports/<int:pk>/progress/", imports.import_progress, name="import_progress"),
    path("imports/<int:pk>/confirm/", imports.import_confirm, name="import_confirm"),
    path("imports/<int:pk>/void/", imports.import_void_page, name="import_void"),
    # training events
    path("events/", events.events_page, name="events"),
    path("events/new/", events.event_new, name="event_new"),
    path("events/<int:pk>/", events.event_page, name="event"),
    path("events/<int:pk>/sheet/", events.event_sheet_upload, name="event_sheet"),
    # corrections (each audited): an event, one attendance status
    path("events/<int:pk>/edit/", corrections.event_edit, name="event_edit"),
    path("events/<int:pk>/delete/", corrections.event_delete_page, name="event_delete"),
    path("events/<int:pk>/attendance/<str:staff_no>/", corrections.attendance_edit, name="attendance_edit"),
    path("events/<int:pk>/qr/", events.event_qr, name="event_qr"),
    path("events/<int:pk>/signin-sheet.docx", training.event_signin_sheet, name="event_signin_sheet"),
    # study hours: who is below their target, and the targets per 人员类别
    path("training/hours-below/", training.hours_below_page, name="hours_below"),
    path("training/hours-below.<str:fmt>", training.hours_below_download, name="hours_below_download"),
    path("training/targets/", training.targets_page, name="training_targets"),
    path("training/targets/<int:pk>/delete/", training.target_delete, name="training_target_delete"),
    path("events/<int:pk>/qr/code.svg", events.event_qr_code, name="event_qr_code"),
    # learning records (个人学法档案)
    path("me/", records.my_record, name="my_record"),
    path("staff/<str:staff_no>/", records.staff_record_page, name="staff_record"),
    # reminders (提醒记录), send now, the units' group robots
    path("reminders/", reminders.reminders_page, name="reminders"),
    path("reminders/send/", reminders.reminder_send, name="reminder_send"),
    path("reminders/jobs/<int:pk>/", reminders.reminder_job_page, name="reminder_job"),
    path("reminders/jobs/<int:pk>/progress/", reminders.reminder_job_progress, name="reminder_job_progress"),
    path("reminders/channels/", reminders.channels_page, name="reminder_channels"),
    path("reminders/channels/<str:code>/<str:channel>/clear/", reminders.channel_clear, name="reminder_channel_clear"),
    # enforcement certificates (执法证管理)
    path("certificates/", certificates.certificates_page, name="certificates"),
    path("certificates/import/", certificates.certificates_upload, name="certificates_upload"),
    path("certificates/<str:state>.<str:fmt>", certificates.certificates_download, name="certificates_download"),
    path("exams/<int:pk>/renew-certificates/", certificates.exam_renew, name="exam_renew"),
    # annual report
    path("reports/annual/", reports.annual_report_page, name="annual_report"),
    path("reports/annual/<int:year>.<str:fmt>", reports.annual_report_download, name="annual_report_download"),
]
