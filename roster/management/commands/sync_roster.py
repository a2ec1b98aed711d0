from __future__ import annotations

from pathlib import Path

from config.cli import EXIT_REFUSED, EXIT_UNREADABLE, DomainCommand
from config.errors import DomainError
from roster.models import RosterSync, SyncMode
from roster.selectors import preview_change_dict, sync_preview_changes
from roster.sync import RosterSyncResult, roster_sync_file


class Command(DomainCommand):
    help = "按人事部门导出的名册文件同步人员（默认全量：文件中没有的在册人员将被停用，不会删除）。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path, help="CSV 或 XLSX 名册文件")
        parser.add_argument("--partial", action="store_true", help="增量同步：只新增和更新，不停用任何人")
        parser.add_argument("--dry-run", action="store_true", help="试运行：报告将发生的变化，不作改动")
        parser.add_argument("--skip-invalid", action="store_true", help="跳过有错误的行，应用其余行")
        parser.add_argument(
            "--allow-mass-deactivation", action="store_true", help="允许停用超过保护上限比例的在册人员"
        )
        parser.add_argument("--json", action="store_true", help="输出一个 JSON 对象")
        parser.add_argument(
            "--changes", action="store_true", help="与 --dry-run --json 合用：列出每一处变化及各字段的原值和新值"
        )

    def handle(self, *args, file: Path, partial: bool, dry_run: bool, skip_invalid: bool,
               allow_mass_deactivation: bool, json: bool, changes: bool, **options) -> None:
        if changes and not (dry_run and json):
            raise DomainError("--changes 只能与 --dry-run --json 一起使用。")
        try:
            result = roster_sync_file(
                path=file,
                mode=SyncMode.PARTIAL if partial else SyncMode.FULL,
                dry_run=dry_run,
                skip_invalid=skip_invalid,
                allow_mass_deactivation=allow_mass_deactivation,
            )
            unreadable = result.unreadable
        except DomainError as exc:  # a missing file, or one over the size cap: never a sync
            result = RosterSyncResult.refused_before_start(error=exc, dry_run=dry_run)
            unreadable = exc.code == "unreadable"
        if json:
            payload = result.as_dict()
            if changes:
                payload["changes"] = _changes_of(result.sync_id)
            self.emit_json(payload)
        elif result.sync_id is None:
            self.stderr.write(f"错误：{result.message}")
        else:
            (self.stdout if result.ok else self.stderr).write(result.message)
            self.stdout.write(
                f"新增 {result.created}，更新 {result.updated}，未变 {result.unchanged}，停用 {result.deactivated}，"
                f"恢复 {result.reactivated}，拒绝 {result.rejected} 行。"
            )
            for warning in result.warnings:
                self.stdout.write(f"提示：{warning}")
            for error in result.errors:
                if error["row"] is None and error["message"] == result.message:
                    continue  # already printed as the summary line
                where = f"第 {error['row']} 行" if error["row"] else "文件"
                column = f"「{error['column']}」" if error["column"] else ""
                value = f"（{error['value']}）" if error.get("value") else ""
                self.stderr.write(f"{where}{column}{value}：{error['message']}")
        if not result.ok:
            raise SystemExit(EXIT_UNREADABLE if unreadable else EXIT_REFUSED)


def _changes_of(sync_id: int | None) -> list[dict]:
    if sync_id is None:
        return []
    sync = RosterSync.objects.get(pk=sync_id)
    return [preview_change_dict(c) for c in sync_preview_changes(sync=sync).iterator(chunk_size=2000)]
