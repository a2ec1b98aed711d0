"""Turn the rows of an HR roster file into checked records ready for staging.

Pure Python over the whole file at once: no query per row. Units are resolved from one
lookup built beforehand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from config.errors import Problem
from sheets.reader import Table

from . import idnumbers

TRUE_WORDS = {"是", "y", "yes", "1", "true", "正职", "√"}
FALSE_WORDS = {"否", "n", "no", "0", "false", ""}
GENDER_WORDS = {"男": "男", "女": "女", "m": "男", "f": "女", "male": "男", "female": "女"}
_PHONE = re.compile(r"^[0-9+\-() ]{3,32}$")

# the optional columns a file may leave out; when absent the stored value is kept
OPTIONAL_FIELDS = ("gender", "position", "category", "is_head", "enforcement_cert", "phone")


@dataclass
class UnitLookup:
    by_code: dict[str, int]
    by_name: dict[str, int | None]  # None when two units share the name
    inactive: set[int]

    def resolve(self, text: str) -> tuple[int | None, str | None]:
        if text in self.by_code:
            unit_id = self.by_code[text]
        elif text.upper() in self.by_code:
            unit_id = self.by_code[text.upper()]
        elif text in self.by_name:
            unit_id = self.by_name[text]
            if unit_id is None:
                return None, f"单位名称“{text}”对应多个单位，请改用单位代码。"
        else:
            return None, f"未知单位“{text}”：单位代码或名称不存在。"
        if unit_id in self.inactive:
            return None, f"单位“{text}”已停用。"
        return unit_id, None


# staging columns, in order
STAGE_COLUMNS = (
    "row_no",
    "staff_no",
    "name",
    "gender",
    "id_cipher",
    "id_hash",
    "id_masked",
    "unit_id",
    "position",
    "category",
    "is_head",
    "enforcement_cert",
    "phone",
    "valid",
)


@dataclass
class PreparedRoster:
    records: list[tuple] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    rejected_rows: set[int] = field(default_factory=set)
    present_fields: tuple[str, ...] = ()

    @property
    def valid_count(self) -> int:
        return len(self.records) - len(self.rejected_rows)


def parse_flag(text: str) -> bool | None:
    lowered = text.strip().lower()
    if lowered in TRUE_WORDS:
        return True
    if lowered in FALSE_WORDS:
        return False
    return None


def prepare_roster(table: Table, units: UnitLookup) -> PreparedRoster:
    sealer = idnumbers.Sealer()
    present = tuple(f for f in OPTIONAL_FIELDS if table.has(f))
    prepared = PreparedRoster(present_fields=present)
    problems = prepared.problems
    label = table.label
    i_staff_no, i_name, i_id, i_unit = (table.index(f) for f in ("staff_no", "name", "id_number", "unit"))
    i_gender, i_position, i_category, i_head, i_cert, i_phone = (table.index(f) for f in OPTIONAL_FIELDS)
    id_bit = 1 << i_id
    seen_staff_no: dict[str, int] = {}
    seen_id: dict[str, int] = {}
    duplicated_staff_no: dict[str, list[int]] = {}
    duplicated_id: dict[str, list[int]] = {}

    for row in table.rows:
        v = row.values
        number = row.number
        errors_before = len(problems)

        staff_no = v[i_staff_no]
        if not staff_no:
            problems.append(Problem(number, label("staff_no"), "", "工号为空。"))
        elif staff_no in seen_staff_no:
            duplicated_staff_no.setdefault(staff_no, []).append(number)
            problems.append(
                Problem(number, label("staff_no"), staff_no, f"工号重复：与第 {seen_staff_no[staff_no]} 行相同。")
            )
        else:
            seen_staff_no[staff_no] = number

        name = v[i_name]
        if not name:
            problems.append(Problem(number, label("name"), "", "姓名为空。"))

        raw_id = v[i_id]
        id_value = ""
        if row.numeric & id_bit:
            problems.append(
                Problem(
                    number,
                    label("id_number"),
                    idnumbers.mask(raw_id),
                    "身份证号被 Excel 存成了数字，后几位已经丢失；请把该列设置为“文本”格式后重新导出。",
                )
            )
        else:
            id_value = idnumbers.normalise(raw_id)
            reason = idnumbers.problem(id_value)
            if reason:
                problems.append(Problem(number, label("id_number"), idnumbers.mask(id_value), reason))
                id_value = ""
            elif id_value in seen_id:
                duplicated_id.setdefault(id_value, []).append(number)
                problems.append(
                    Problem(
                        number,
                        label("id_number"),
                        idnumbers.mask(id_value),
                        f"身份证号重复：与第 {seen_id[id_value]} 行相同。",
                    )
                )
            else:
                seen_id[id_value] = number

        unit_text = v[i_unit]
        unit_id = None
        if not unit_text:
            problems.append(Problem(number, label("unit"), "", "单位为空。"))
        else:
            unit_id, reason = units.resolve(unit_text)
            if reason:
                problems.append(Problem(number, label("unit"), unit_text, reason))

        gender = ""
        if i_gender is not None and v[i_gender]:
            gender = GENDER_WORDS.get(v[i_gender].lower(), "")
            if not gender:
                problems.append(Problem(number, label("gender"), v[i_gender], "性别应为“男”或“女”。"))
        elif id_value:
            gender = idnumbers.gender_of(id_value)

        is_head = False
        if i_head is not None:
            flag = parse_flag(v[i_head])
            if flag is None:
                problems.append(Problem(number, label("is_head"), v[i_head], "是否正职应为 是/否、Y/N、1/0 或 true/false。"))
            else:
                is_head = flag

        phone = v[i_phone] if i_phone is not None else ""
        if phone and not _PHONE.match(phone):
            problems.append(Problem(number, label("phone"), idnumbers.mask_phone(phone), "手机号格式不正确。"))

        valid = len(problems) == errors_before
        if valid:
            prepared.records.append(
                (
                    number,
                    staff_no,
                    name,
                    gender,
                    sealer.encrypt(id_value),
                    sealer.digest(id_value),
                    idnumbers.mask(id_value),
                    unit_id,
                    v[i_position] if i_position is not None else "",
                    v[i_category] if i_category is not None else "",
                    is_head,
                    v[i_cert] if i_cert is not None else "",
                    phone,
                    True,
                )
            )
        else:
            prepared.rejected_rows.add(number)
            prepared.records.append(_rejected_record(number, staff_no, sealer.digest(id_value) if id_value else ""))

    if duplicated_staff_no or duplicated_id:
        _reject_first_of_duplicates(prepared, table, seen_staff_no, seen_id, duplicated_staff_no, duplicated_id)
    return prepared


def _rejected_record(number: int, staff_no: str, id_hash: str) -> tuple:
    # Staged only so that the staff member it names is protected from deactivation.
    return (number, staff_no, "", "", "", id_hash, "", None, "", "", False, "", "", False)


def _reject_first_of_duplicates(
    prepared: PreparedRoster,
    table: Table,
    seen_staff_no: dict[str, int],
    seen_id: dict[str, int],
    duplicated_staff_no: dict[str, list[int]],
    duplicated_id: dict[str, list[int]],
) -> None:
    """A duplicated key is ambiguous in every row that carries it: the first row is rejected
    too, so that --skip-invalid never picks one of two conflicting rows at random."""
    position = {record[0]: i for i, record in enumerate(prepared.records)}

    def reject(number: int, column: str, value: str, message: str) -> None:
        prepared.problems.append(Problem(number, table.label(column), value, message))
        index = position[number]
        record = prepared.records[index]
        if record[-1]:
            prepared.rejected_rows.add(number)
            prepared.records[index] = _rejected_record(number, record[1], record[5])

    for staff_no, rows in duplicated_staff_no.items():
        reject(seen_staff_no[staff_no], "staff_no", staff_no, f"工号重复：第 {'、'.join(map(str, rows))} 行也使用了该工号。")
    for id_value, rows in duplicated_id.items():
        reject(
            seen_id[id_value],
            "id_number",
            idnumbers.mask(id_value),
            f"身份证号重复：第 {'、'.join(map(str, rows))} 行也使用了该身份证号。",
        )
    prepared.problems.sort(key=lambda p: p.row or 0)
