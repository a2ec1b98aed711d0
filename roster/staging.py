"""The set-based core of a roster sync: stage the file's rows, compare them with the staff
table in SQL, and write the differences in a handful of statements.

The same SQL runs on PostgreSQL and SQLite. Only loading the stage differs: COPY on
PostgreSQL, executemany on SQLite.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django.db import connection

from . import idnumbers
from .models import PreviewKind, RosterSync, Staff, StaffChange, SyncPreviewChange, Unit
from .roster_rows import STAGE_COLUMNS

STAGE = "roster_stage"
PLAN = "roster_plan"
GONE = "roster_gone"
SEAL = "roster_seal"
STAFF = Staff._meta.db_table
CHANGE = StaffChange._meta.db_table
UNIT = Unit._meta.db_table
PREVIEW = SyncPreviewChange._meta.db_table

# file field -> (staff column, stage column)
COMPARED = {
    "name": ("name", "name"),
    "gender": ("gender", "gender"),
    "id_number": ("id_number_hash", "id_hash"),
    "unit": ("unit_id", "unit_id"),
    "position": ("position", "position"),
    "category": ("category", "category"),
    "is_head": ("is_head", "is_head"),
    "enforcement_cert": ("enforcement_cert", "enforcement_cert"),
    "phone": ("phone", "phone"),
}
ALWAYS_COMPARED = ("name", "gender", "id_number", "unit")

PREVIEW_ROWS = 20


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


@dataclass
class Classification:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    reactivated: int = 0
    deactivated: int = 0
    active_before: int = 0
    preview: dict[str, list[dict]] = field(default_factory=dict)


class RosterStage:
    """A temporary table holding one sync's rows, alive for one transaction."""

    def __init__(self, *, present_fields: Sequence[str], full: bool, root: Unit | None = None) -> None:
        # 性别 is always compared (it falls back to the ID number), whether or not the file has it
        self.fields = [*ALWAYS_COMPARED, *(f for f in present_fields if f not in ALWAYS_COMPARED)]
        self.full = full
        # a scoped office's sync: the subtree its rows must lie in, and the only one a full
        # sync deactivates in (None: the whole roster)
        self.root = root

    def _in_root(self, alias: str) -> tuple[str, list[str]]:
        """A condition keeping staff rows (``alias``) whose unit lies in the root's subtree."""
        if self.root is None:
            return "1 = 1", []
        return f"{alias}.unit_id IN (SELECT r.id FROM {UNIT} r WHERE r.path LIKE %s)", [self.root.path + "%"]

    # --- loading ---------------------------------------------------------------------

    def create(self, records: list[tuple]) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
            cursor.execute(f"DROP TABLE IF EXISTS {PLAN}")
            cursor.execute(f"DROP TABLE IF EXISTS {GONE}")
            cursor.execute(f"DROP TABLE IF EXISTS {SEAL}")
            temp = "CREATE TEMP TABLE" if _is_postgres() else "CREATE TEMP TABLE"
            on_commit = " ON COMMIT DROP" if _is_postgres() else ""
            cursor.execute(
                f"""{temp} {STAGE} (
                    row_no integer NOT NULL,
                    staff_no varchar(64) NOT NULL,
                    name varchar(100) NOT NULL,
                    gender varchar(8) NOT NULL,
                    id_hash varchar(64) NOT NULL,
                    unit_id bigint NULL,
                    position varchar(200) NOT NULL,
                    category varchar(100) NOT NULL,
                    is_head boolean NOT NULL,
                    enforcement_cert varchar(64) NOT NULL,
                    phone varchar(32) NOT NULL,
                    valid boolean NOT NULL,
                    action varchar(12) NULL,
                    staff_id bigint NULL
                ){on_commit}"""
            )
            columns = ", ".join(STAGE_COLUMNS)
            if _is_postgres():
                with cursor.cursor.copy(f"COPY {STAGE} ({columns}) FROM STDIN") as copy:
                    for record in records:
                        copy.write_row(record)
            else:
                placeholders = ", ".join(["%s"] * len(STAGE_COLUMNS))
                cursor.executemany(f"INSERT INTO {STAGE} ({columns}) VALUES ({placeholders})", records)
            if _is_postgres():
                # hash joins over the stage and the staff table want more than the default 4 MB
                cursor.execute("SET LOCAL work_mem = '128MB'")
            else:
                self._index_and_analyze(cursor)

    def _index_and_analyze(self, cursor) -> None:
        # Indexes on both backends: with a handful of rejected rows PostgreSQL's estimates favour
        # nested-loop anti-joins, which without an index would scan the whole stage per staff row.
        cursor.execute(f"CREATE INDEX IF NOT EXISTS {STAGE}_staff_no ON {STAGE} (staff_no)")
        # only rejected rows are looked up by ID number (to protect their staff from deactivation)
        cursor.execute(f"CREATE INDEX IF NOT EXISTS {STAGE}_rejected_id_hash ON {STAGE} (id_hash) WHERE NOT valid")
        if _is_postgres():
            # statistics only for the columns the later joins and filters read
            # (id_changed is a column of its own because no estimate of "old_hash <> id_hash"
            # can know that it holds for 1% of the rows; with it, the ID-conflict check looks up
            # those few rows by index instead of hashing the whole staff table)
            cursor.execute(f"ANALYZE {STAGE} (staff_no, id_hash, valid, action, staff_id, id_changed)")
        else:
            cursor.execute(f"ANALYZE {STAGE}")

    def drop(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
            cursor.execute(f"DROP TABLE IF EXISTS {GONE}")
            cursor.execute(f"DROP TABLE IF EXISTS {SEAL}")

    def seal(self, id_numbers: Mapping[int, str]) -> int:
        """Encrypt and mask the ID numbers the staff table will take: those of new staff and the
        changed ones. A re-sync where few numbers change thus encrypts a few, not every row.
        Returns how many were sealed."""
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT row_no FROM {STAGE} WHERE valid AND action IS NOT NULL AND id_changed"
            )
            wanted = [row_no for (row_no,) in cursor.fetchall()]
            sealer, mask = idnumbers.Sealer(), idnumbers.mask
            records = [(row_no, sealer.encrypt(id_numbers[row_no]), mask(id_numbers[row_no])) for row_no in wanted]
            cursor.execute(
                f"""CREATE TEMP TABLE {SEAL} (row_no integer PRIMARY KEY, cipher varchar(128) NOT NULL,
                        masked varchar(32) NOT NULL){' ON COMMIT DROP' if _is_postgres() else ''}"""
            )
            if _is_postgres():
                with cursor.cursor.copy(f"COPY {SEAL} (row_no, cipher, masked) FROM STDIN") as copy:
                    for record in records:
                        copy.write_row(record)
            else:
                cursor.executemany(f"INSERT INTO {SEAL} (row_no, cipher, masked) VALUES (%s, %s, %s)", records)
            cursor.execute(f"ANALYZE {SEAL}")
        return len(records)

    # --- checks ----------------------------------------------------------------------

    def id_conflicts(self) -> list[tuple[int, str, bool]]:
        """Rows whose ID number belongs to another staff member who keeps it after this sync:
        (row number, the other staff_no, whether that person is active)."""
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                SELECT s.row_no, t.staff_no, t.is_active
                  FROM {STAGE} s JOIN {STAFF} t ON t.id_number_hash = s.id_hash
                 WHERE s.valid AND s.id_changed
                   AND t.staff_no <> s.staff_no
                   AND NOT EXISTS (
                       SELECT 1 FROM {STAGE} s2
                        WHERE s2.staff_no = t.staff_no AND s2.valid AND s2.id_hash <> t.id_number_hash)
                 ORDER BY s.row_no
                """
            )
            return [(row_no, staff_no, bool(active)) for row_no, staff_no, active in cursor.fetchall()]

    def outsiders(self) -> list[int]:
        """A scoped sync's rows whose staff number belongs to someone now outside its subtree:
        a city's HR may not take another city's person (row numbers)."""
        if self.root is None:
            return []
        inside, params = self._in_root("t")
        with connection.cursor() as cursor:
            cursor.execute(
                f"""SELECT s.row_no FROM {STAGE} s JOIN {STAFF} t ON t.id = s.staff_id
                     WHERE s.valid AND NOT ({inside}) ORDER BY s.row_no""",
                params,
            )
            return [row_no for (row_no,) in cursor.fetchall()]

    def reject_rows(self, row_numbers: Sequence[int]) -> None:
        if not row_numbers:
            return
        with connection.cursor() as cursor:
            for start in range(0, len(row_numbers), 500):
                chunk = list(row_numbers[start : start + 500])
                cursor.execute(
                    f"UPDATE {STAGE} SET valid = %s, action = NULL WHERE row_no IN ({', '.join(['%s'] * len(chunk))})",
                    [False, *chunk],
                )

    # --- comparison ------------------------------------------------------------------

    def _changed(self, t: str, s: str) -> str:
        return " OR ".join(f"{t}.{COMPARED[f][0]} <> {s}.{COMPARED[f][1]}" for f in self.fields)

    def _missing_active(self) -> str:
        """Active staff the file does not name: neither by a row (valid or rejected) nor by the
        ID number of a rejected row."""
        return f"""t.is_active
            AND NOT EXISTS (SELECT 1 FROM {STAGE} s WHERE s.staff_no = t.staff_no)
            AND NOT EXISTS (SELECT 1 FROM {STAGE} s WHERE s.id_hash = t.id_number_hash AND NOT s.valid)"""

    def plan(self) -> None:
        """Decide every row's action in one joined pass. Rebuilding the stage this way is far
        cheaper than updating 200,000 of its rows in place."""
        columns = ", ".join(f"s.{c}" for c in STAGE_COLUMNS)
        with connection.cursor() as cursor:
            cursor.execute(
                f"""CREATE TEMP TABLE {PLAN}{' ON COMMIT DROP' if _is_postgres() else ''} AS
                    SELECT {columns}, t.id AS staff_id, t.id_number_hash AS old_hash,
                           (t.id IS NULL OR t.id_number_hash <> s.id_hash) AS id_changed,
                           CASE WHEN NOT s.valid THEN NULL
                                WHEN t.id IS NULL THEN 'create'
                                WHEN NOT t.is_active THEN 'reactivate'
                                WHEN {self._changed('t', 's')} THEN 'update'
                                ELSE 'unchanged' END AS action
                      FROM {STAGE} s LEFT JOIN {STAFF} t ON t.staff_no = s.staff_no"""
            )
            cursor.execute(f"DROP TABLE {STAGE}")
            cursor.execute(f"ALTER TABLE {PLAN} RENAME TO {STAGE}")
            self._index_and_analyze(cursor)

    def classify(self) -> Classification:
        result = Classification()
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT action, COUNT(*) FROM {STAGE} WHERE valid GROUP BY action")
            counts = dict(cursor.fetchall())
            result.created = counts.get("create", 0)
            result.updated = counts.get("update", 0)
            result.unchanged = counts.get("unchanged", 0)
            result.reactivated = counts.get("reactivate", 0)
            # a scoped sync: the active staff of its subtree, the only ones it may deactivate
            inside, params = self._in_root("t")
            cursor.execute(f"SELECT COUNT(*) FROM {STAFF} t WHERE t.is_active AND {inside}", params)
            result.active_before = cursor.fetchone()[0]
            if self.full:
                # the staff a full sync deactivates, worked out once and reused
                cursor.execute(
                    f"CREATE TEMP TABLE {GONE}{' ON COMMIT DROP' if _is_postgres() else ''} AS "
                    f"SELECT t.id FROM {STAFF} t WHERE {self._missing_active()} AND {inside}",
                    params,
                )
                cursor.execute(f"SELECT COUNT(*) FROM {GONE}")
                result.deactivated = cursor.fetchone()[0]
        return result

    def preview(self) -> dict[str, list[dict]]:
        return self._preview()

    def _preview(self) -> dict[str, list[dict]]:
        preview: dict[str, list[dict]] = {}
        with connection.cursor() as cursor:
            for action, key in (("create", "created"), ("reactivate", "reactivated")):
                cursor.execute(
                    f"""SELECT s.row_no, s.staff_no, s.name, u.name FROM {STAGE} s JOIN {UNIT} u ON u.id = s.unit_id
                         WHERE s.valid AND s.action = %s ORDER BY s.row_no LIMIT {PREVIEW_ROWS}""",
                    [action],
                )
                preview[key] = [
                    {"row": r, "staff_no": no, "name": name, "unit_name": unit} for r, no, name, unit in cursor.fetchall()
                ]
            flags = ", ".join(f"CASE WHEN t.{COMPARED[f][0]} <> s.{COMPARED[f][1]} THEN 1 ELSE 0 END" for f in self.fields)
            cursor.execute(
                f"""SELECT s.row_no, s.staff_no, s.name, u.name, {flags}
                      FROM {STAGE} s JOIN {STAFF} t ON t.id = s.staff_id JOIN {UNIT} u ON u.id = s.unit_id
                     WHERE s.valid AND s.action = 'update' ORDER BY s.row_no LIMIT {PREVIEW_ROWS}"""
            )
            preview["updated"] = [
                {
                    "row": r[0],
                    "staff_no": r[1],
                    "name": r[2],
                    "unit_name": r[3],
                    "fields": [f for f, flag in zip(self.fields, r[4:], strict=False) if flag],
                }
                for r in cursor.fetchall()
            ]
            preview["deactivated"] = []
            if self.full:
                cursor.execute(
                    f"""SELECT t.staff_no, t.name, u.name FROM {GONE} g JOIN {STAFF} t ON t.id = g.id
                          JOIN {UNIT} u ON u.id = t.unit_id ORDER BY t.staff_no LIMIT {PREVIEW_ROWS}"""
                )
                preview["deactivated"] = [
                    {"row": None, "staff_no": no, "name": name, "unit_name": unit} for no, name, unit in cursor.fetchall()
                ]
        return preview

    def store_changes(self, *, sync: RosterSync, id_numbers: Mapping[int, str]) -> int:
        """Keep every change this sync would make (``SyncPreviewChange``), with each changed
        field's old and new value, ID numbers masked. New and deactivated people are copied in
        SQL; only the updated rows, whose fields are compared, pass through Python."""
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {PREVIEW} WHERE sync_id = %s", [sync.pk])
            cursor.execute(
                f"""INSERT INTO {PREVIEW} (sync_id, row_no, staff_no, name, unit_id, kind, fields)
                    SELECT %s, s.row_no, s.staff_no, s.name, s.unit_id, %s, '{{}}'
                      FROM {STAGE} s WHERE s.valid AND s.action = 'create' ORDER BY s.row_no""",
                [sync.pk, PreviewKind.CREATED],
            )
            stored = cursor.rowcount
            old_new = ", ".join(f"t.{self._display_column(f)}, s.{COMPARED[f][1]}" for f in self.fields)
            cursor.execute(
                f"""SELECT s.row_no, s.staff_no, s.name, s.unit_id, s.action, t.id_number_hash, s.id_hash, {old_new}
                      FROM {STAGE} s JOIN {STAFF} t ON t.id = s.staff_id
                     WHERE s.valid AND s.action IN ('update', 'reactivate') ORDER BY s.row_no"""
            )
            changed = cursor.fetchall()
            if self.full:
                cursor.execute(
                    f"""INSERT INTO {PREVIEW} (sync_id, row_no, staff_no, name, unit_id, kind, fields)
                        SELECT %s, NULL, t.staff_no, t.name, t.unit_id, %s, '{{}}'
                          FROM {GONE} g JOIN {STAFF} t ON t.id = g.id ORDER BY t.staff_no""",
                    [sync.pk, PreviewKind.DEACTIVATED],
                )
                stored += cursor.rowcount
        units = {pk: f"{code} {name}" for pk, code, name in Unit.objects.values_list("id", "code", "name")}
        records = []
        for row_no, staff_no, name, unit_id, action, old_hash, new_hash, *values in changed:
            fields: dict[str, list] = {}
            for i, f in enumerate(self.fields):
                old, new = values[2 * i], values[2 * i + 1]
                if f == "id_number":
                    if old_hash != new_hash:
                        fields[f] = [old or "", idnumbers.mask(id_numbers.get(row_no, ""))]
                elif old != new:
                    fields[f] = [_shown_value(f, old, units), _shown_value(f, new, units)]
            kind = PreviewKind.REACTIVATED if action == "reactivate" else PreviewKind.UPDATED
            records.append(SyncPreviewChange(sync_id=sync.pk, row_no=row_no, staff_no=staff_no, name=name,
                                             unit_id=unit_id, kind=kind, fields=fields))
        SyncPreviewChange.objects.bulk_create(records, batch_size=2000)
        return stored + len(records)

    @staticmethod
    def _display_column(f: str) -> str:
        # the staff column a person reads for this field: the masked ID number, not its hash
        return "id_number_masked" if f == "id_number" else COMPARED[f][0]

    # --- applying --------------------------------------------------------------------

    def _history_values(self, f: str) -> tuple[str, str]:
        """SQL expressions, over the ``changed`` rows, for a field's old and new value as the
        history shows them."""
        if f == "unit":
            return (
                f"(SELECT uo.code || ' ' || uo.name FROM {UNIT} uo WHERE uo.id = t_unit_id)",
                f"(SELECT un.code || ' ' || un.name FROM {UNIT} un WHERE un.id = s_unit_id)",
            )
        if f == "id_number":
            return "t_id_number_masked", "e_masked"
        if f == "is_head":
            return "CASE WHEN t_is_head THEN '是' ELSE '否' END", "CASE WHEN s_is_head THEN '是' ELSE '否' END"
        column, stage_column = COMPARED[f]
        return f"t_{column}", f"s_{stage_column}"

    @staticmethod
    def _history_refs(f: str) -> str:
        """SQL for the stored forms an undo puts back (``old_ref, new_ref, old_sealed,
        new_sealed``): the unit's id, the ID number's hash and sealed form; "" elsewhere."""
        if f == "unit":
            return "CAST(t_unit_id AS TEXT), CAST(s_unit_id AS TEXT), '', ''"
        if f == "id_number":
            return "t_id_number_hash, s_id_hash, t_id_number_cipher, e_cipher"
        return "'', '', '', ''"

    def apply(self, *, sync: RosterSync, now: dt.datetime, today: dt.date) -> None:
        with connection.cursor() as cursor:
            history_columns = (f"INSERT INTO {CHANGE} (staff_id, sync_id, kind, field, old_value, new_value, changed_at, "
                               "old_ref, new_ref, old_sealed, new_sealed)")
            # One join of the changed rows, read once per field.
            selects = []
            for f in self.fields:
                column, stage_column = COMPARED[f]
                old, new = self._history_values(f)
                refs = self._history_refs(f)
                kind = "moved" if f == "unit" else "updated"
                selects.append(
                    f"SELECT t_id, %s, '{kind}', '{f}', {old}, {new}, %s, {refs} FROM changed "
                    f"WHERE t_{column} <> s_{stage_column}"
                )
            stage_columns = ", ".join(f"s.{c} AS s_{c}" for c in ("unit_id", *(COMPARED[f][1] for f in self.fields if f != "unit")))
            staff_columns = ", ".join(
                f"t.{c} AS t_{c}" for c in ("id", "unit_id", *(COMPARED[f][0] for f in self.fields if f != "unit"),
                                            "id_number_masked", "id_number_cipher")
            )
            cursor.execute(
                f"""{history_columns}
                    WITH changed AS (
                        SELECT {stage_columns}, {staff_columns}, e.masked AS e_masked, e.cipher AS e_cipher
                          FROM {STAGE} s JOIN {STAFF} t ON t.id = s.staff_id LEFT JOIN {SEAL} e ON e.row_no = s.row_no
                         WHERE s.valid AND s.action IN ('update', 'reactivate'))
                    {' UNION ALL '.join(selects)}""",
                [sync.pk, now] * len(selects),
            )
            # an is_active change keeps the 离册日期 it replaced, for an undo to put back
            cursor.execute(
                f"""{history_columns}
                    SELECT s.staff_id, %s, 'reactivated', 'is_active', '否', '是', %s,
                           COALESCE(CAST(t.left_on AS TEXT), ''), '', '', ''
                      FROM {STAGE} s JOIN {STAFF} t ON t.id = s.staff_id WHERE s.valid AND s.action = 'reactivate'""",
                [sync.pk, now],
            )

            assignments = [
                "name = s.name",
                "gender = s.gender",
                "unit_id = s.unit_id",
                f"id_number_cipher = CASE WHEN {STAFF}.id_number_hash <> s.id_hash THEN e.cipher ELSE {STAFF}.id_number_cipher END",
                f"id_number_masked = CASE WHEN {STAFF}.id_number_hash <> s.id_hash THEN e.masked ELSE {STAFF}.id_number_masked END",
                "id_number_hash = s.id_hash",
            ]
            assignments += [f"{COMPARED[f][0]} = s.{COMPARED[f][1]}" for f in self.fields if f not in ALWAYS_COMPARED]
            assignments += ["is_active = %s", "left_on = NULL", "updated_at = %s"]
            cursor.execute(
                f"""UPDATE {STAFF} SET {', '.join(assignments)}
                      FROM {STAGE} s LEFT JOIN {SEAL} e ON e.row_no = s.row_no
                     WHERE {STAFF}.id = s.staff_id AND s.valid AND s.action IN ('update', 'reactivate')""",
                [True, now],
            )

            cursor.execute(
                f"""INSERT INTO {STAFF} (staff_no, name, gender, id_number_cipher, id_number_hash, id_number_masked,
                        unit_id, position, category, is_head, enforcement_cert, phone, is_active, joined_on, left_on,
                        created_at, updated_at, created_by_sync_id)
                    SELECT s.staff_no, s.name, s.gender, e.cipher, s.id_hash, e.masked, s.unit_id, s.position,
                           s.category, s.is_head, s.enforcement_cert, s.phone, %s, %s, NULL, %s, %s, %s
                      FROM {STAGE} s JOIN {SEAL} e ON e.row_no = s.row_no
                     WHERE s.valid AND s.action = 'create' ORDER BY s.row_no""",
                [True, today, now, now, sync.pk],
            )

            if self.full:
                cursor.execute(
                    f"""{history_columns}
                        SELECT g.id, %s, 'deactivated', 'is_active', '是', '否', %s,
                               COALESCE(CAST(t.left_on AS TEXT), ''), %s, '', ''
                          FROM {GONE} g JOIN {STAFF} t ON t.id = g.id""",
                    [sync.pk, now, today.isoformat()],
                )
                cursor.execute(
                    f"UPDATE {STAFF} SET is_active = %s, left_on = %s, updated_at = %s WHERE id IN (SELECT id FROM {GONE})",
                    [False, today, now],
                )


def _shown_value(f: str, value: object, units: Mapping[int, str]) -> object:
    if f == "unit":
        return units.get(value, "") if value is not None else ""
    if f == "is_head":
        return "是" if value else "否"
    return value if value is not None else ""
