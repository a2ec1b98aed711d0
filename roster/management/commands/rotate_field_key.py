"""``manage.py rotate_field_key [--batch 5000] [--json]``: re-encrypt and re-hash the stored
ID numbers (and the robots' webhook secrets) under the first key of FIELD_ENCRYPTION_KEYS /
FIELD_HASH_KEYS, in batches, while the system runs; resumable (run it again after a stop).
The new keys are registered with the canary first; at the end the older ones are retired."""

from __future__ import annotations

from config.cli import DomainCommand
from roster.keyrotation import DEFAULT_BATCH, RotationProgress, field_keys_register_checked, rotate_field_keys


class Command(DomainCommand):
    help = ("用 FIELD_ENCRYPTION_KEYS / FIELD_HASH_KEYS 的第一个（新）密钥分批重新加密、重新散列已存的身份证号，"
            "系统可照常运行；中断后再次运行即从未完成处继续。完成后旧密钥即可删除。")
    # the new key is not registered yet: this command checks the keys itself
    requires_system_checks: list[str] = []

    def add_arguments(self, parser) -> None:
        parser.add_argument("--batch", type=int, default=DEFAULT_BATCH, help=f"每批行数（默认 {DEFAULT_BATCH}）")
        parser.add_argument("--json", action="store_true", help="每批输出一行 JSON：total、done、remaining、batches")
        parser.add_argument("--register-only", action="store_true",
                            help="只登记新密钥（轮换第一步，随后用新旧两个密钥重启各进程），不改写数据")

    def handle(self, *args, batch: int, json: bool, register_only: bool, **options) -> None:
        if register_only:
            added = field_keys_register_checked()
            if json:
                self.emit_json({"registered": added})
            else:
                self.stdout.write(f"已登记新密钥 {len(added)} 个。现在用新旧两个密钥重启 worker、beat 和 web，"
                                  "再运行 python manage.py rotate_field_key。" if added else "没有需要登记的新密钥。")
            return

        def report(progress: RotationProgress) -> None:
            if json:
                self.emit_json(progress.as_dict())
            elif not progress.finished:
                self.stdout.write(f"第 {progress.batches} 批：已处理 {progress.done}/{progress.total} 行，"
                                  f"改写 {progress.rewritten} 行，剩余 {progress.remaining} 行。")

        progress = rotate_field_keys(batch=batch, on_progress=report)
        if not json:
            self.stdout.write(f"轮换完成：共 {progress.done} 行，改写 {progress.rewritten} 行，{progress.batches} 批；"
                              f"退役旧密钥 {progress.retired} 个。旧密钥现在可以从 FIELD_ENCRYPTION_KEYS / "
                              "FIELD_HASH_KEYS 中删除。")
