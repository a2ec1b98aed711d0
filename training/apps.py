from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "training"
    verbose_name = "法治培训"

    def ready(self) -> None:
        import datetime as dt

        from django.db.models import Q

        from config.jobs import JobKind, register_job_kind
        from sheets.models import ImportKind, ImportRecord, SupplyKind
        from sheets.voiding import register_voider

        from .capabilities import grant_training_capabilities
        from .voiding import attendance_import_void

        grant_training_capabilities()
        register_voider(kind=ImportKind.ATTENDANCE, supplies=(SupplyKind.ATTENDANCE,), voider=attendance_import_void)
        # sign-in sheets run in the request that uploads them (no task): past its lease, a
        # sheet whose process died is ended as failed and its file deleted
        register_job_kind("attendance_import", JobKind(
            model=ImportRecord, task=None, filter=Q(kind=ImportKind.ATTENDANCE), requeue_after=dt.timedelta(minutes=2),
            abandoned_message="签到表导入中断：处理它的进程已停止，未记录任何出勤，上传的文件已删除。请重新上传。",
        ))
