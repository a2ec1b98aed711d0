"""The annual report's paragraph, in the style of the rule-of-law government annual report:

    组织新区各部门、两镇政府、教育系统合计2080人参加学法用法考试，参考率98.7%，合格率99.2%；
    开展常务会专题法治讲座1次、法治专题学习2次、专题讲座3场，组织单位正职旁听庭审1次，
    累计参训512人次、1168学时。

Built only from the report's numbers; each clause appears only when its number is not zero.
The number after 合计 is the ``sat`` of the year's ``annual_law`` exam.

Figures are never summed across exams. Each exam of a kind that is not a make-up is stated
with its own figures (a make-up is folded into its main exam, ``exams.selectors``, and its
own sitters are added as "其中补考…"). The unit kinds ("两镇政府") are counted once, over the
top-level units that had candidates in any of the kind's exams, never once per exam.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

NUMERALS = {1: "一", 2: "两", 3: "三", 4: "四", 5: "五", 6: "六", 7: "七", 8: "八", 9: "九", 10: "十"}

# training kinds in the report's order, with how each is counted
TRAINING_CLAUSES = (
    ("executive_meeting", "常务会专题法治讲座{n}次"),
    ("study_session", "法治专题学习{n}次"),
    ("lecture", "专题讲座{n}场"),
    ("enforcement_training", "执法人员专题培训{n}期"),
    ("online_course", "网络学法课程{n}门"),
)
ENFORCEMENT_EXAMS = (
    ("enforcement_qualification", "执法资格考试"),
    ("enforcement_renewal", "执法续职考试"),
)


def percent(rate: float | None) -> str:
    """0.987 -> "98.7%"; one decimal, rounded half up, a trailing ".0" dropped."""
    if rate is None:
        return ""
    value = (Decimal(str(rate)) * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    text = f"{value:f}"
    return (text[:-2] if text.endswith(".0") else text) + "%"


def number(value: Any) -> str:
    """1168 -> "1168", 1168.5 -> "1168.5"."""
    value = Decimal(str(value or 0))
    if value == value.to_integral_value():
        return str(int(value))
    return f"{value.normalize():f}"


def _count(n: int) -> str:
    return NUMERALS.get(n, str(n))


def _short(district: str) -> str:
    return "新区" if district.endswith("新区") else district


def units_phrase(by_unit: list[dict[str, Any]], *, district: str = "") -> str:
    """"新区各部门、两镇政府、教育系统": the kinds of the top-level units that had candidates,
    each unit counted once however many exams list it (by ``unit_code``)."""
    kinds: dict[str, int] = {}
    seen: set[str] = set()
    for entry in by_unit:
        code = entry.get("unit_code")
        if not entry.get("candidates") or (code is not None and code in seen):
            continue
        if code is not None:
            seen.add(code)
        kinds[entry["kind"]] = kinds.get(entry["kind"], 0) + 1
    short = _short(district)
    parts = []
    if kinds.get("department"):
        parts.append(f"{short}各部门")
    if kinds.get("town"):
        parts.append(f"{_count(kinds['town'])}镇政府" if kinds["town"] > 1 else "镇政府")
    if kinds.get("education"):
        parts.append("教育系统")
    if kinds.get("admin"):
        parts.append(f"{short}机关")
    if kinds.get("school"):
        parts.append("各学校")
    if kinds.get("other"):
        parts.append("其他单位")
    return "、".join(parts)


def _main_exams(exams: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    """The kind's exams that are not make-ups (a make-up stands under its main exam's
    ``makeup``; an entry naming ``makeup_of`` is one too)."""
    return [e for e in exams if e["kind"] == kind and not e.get("makeup_of")]


def _rates(exam: dict[str, Any]) -> str:
    text = ""
    if exam.get("expected"):
        text += f"，参考率{percent(exam['sat'] / exam['expected'])}"
    if exam.get("sat"):
        text += f"，合格率{percent(exam['passed'] / exam['sat'])}"
    makeup = exam.get("makeup") or {}
    if makeup.get("sat"):
        text += f"，其中补考{makeup['sat']}人、合格{makeup.get('passed') or 0}人"
    return text


def _law_clause(law: list[dict[str, Any]], district: str) -> str | None:
    law = [e for e in law if e["sat"]]
    if not law:
        return None
    by_unit = [u for e in law for u in [*e.get("by_unit", []), *((e.get("makeup") or {}).get("by_unit") or [])]]
    phrase = units_phrase(by_unit, district=district)
    if len(law) == 1:
        (exam,) = law
        clause = f"组织{phrase}合计{exam['sat']}人参加学法用法考试" if phrase else f"组织{exam['sat']}人参加学法用法考试"
        return clause + _rates(exam)
    # two or more sittings that are not make-ups of each other: each with its own figures
    each = "；".join(f"“{e.get('name') or '学法用法考试'}”{e['sat']}人参加{_rates(e)}" for e in law)
    head = f"组织{phrase}参加学法用法考试{_count(len(law))}次" if phrase else f"组织参加学法用法考试{_count(len(law))}次"
    return f"{head}：{each}"


def _exam_clauses(exams: list[dict[str, Any]], district: str) -> list[str]:
    clauses = []
    law = _law_clause(_main_exams(exams, "annual_law"), district)
    if law:
        clauses.append(law)
    enforcement = []
    for kind, label in ENFORCEMENT_EXAMS:
        sittings = [e for e in _main_exams(exams, kind) if e["sat"]]
        if len(sittings) == 1:
            enforcement.append(f"{label}{sittings[0]['sat']}人")
        elif sittings:
            each = "、".join(f"“{e.get('name') or label}”{e['sat']}人" for e in sittings)
            enforcement.append(f"{label}{_count(len(sittings))}次（{each}）")
    if enforcement:
        clauses.append("组织执法人员参加" + "、".join(enforcement))
    return clauses


def _training_clauses(training: dict[str, Any]) -> list[str]:
    clauses = []
    by_kind = training.get("by_kind") or {}
    items = [text.format(n=by_kind[kind]) for kind, text in TRAINING_CLAUSES if by_kind.get(kind)]
    if items:
        clauses.append("开展" + "、".join(items))
    court = (training.get("court_observation") or {}).get("events") or 0
    if court:
        clauses.append(f"组织单位正职旁听庭审{court}次")
    attendances = training.get("attendances") or 0
    hours = Decimal(str(training.get("person_hours") or 0))
    if attendances:
        clauses.append(f"累计参训{attendances}人次" + (f"、{number(hours)}学时" if hours else ""))
    return clauses


def certificates_sentence(certificates: dict[str, Any] | None, *, as_of: str = "") -> str:
    """"全年通过执法续职考试续期行政执法证12张；截至12月31日持证320人，待续期8张、已过期3张。"
    Empty while the certificate register is (every figure zero)."""
    c = certificates or {}
    if not any(c.get(key) for key in ("holders", "renewed", "expired", "due")):
        return ""
    parts = []
    if c.get("renewed"):
        parts.append(f"全年通过执法续职考试续期行政执法证{c['renewed']}张")
    when = f"截至{int(as_of[5:7])}月{int(as_of[8:10])}日" if len(as_of) == 10 else "目前"
    tail = f"{when}持证{c.get('holders', 0)}人"
    pending = [f"{label}{c[key]}张" for key, label in (("due", "待续期"), ("expired", "已过期")) if c.get(key)]
    if pending:
        tail += "，" + "、".join(pending)
    parts.append(tail)
    return "；".join(parts) + "。"


def annual_narrative(report: dict[str, Any], *, district: str = "") -> str:
    exam_part = "，".join(_exam_clauses(report.get("exams") or [], district))
    training_part = "，".join(_training_clauses(report.get("training") or {}))
    sentence = "；".join(part for part in (exam_part, training_part) if part)
    # the register's figures are as of 31 December, or today (the staff figure's date) this year
    today = str((report.get("staff") or {}).get("as_of") or "")
    as_of = min(f"{report['year']}-12-31", today) if today else f"{report['year']}-12-31"
    certificates = certificates_sentence(report.get("certificates"), as_of=as_of)
    if not sentence:
        return f"{report['year']}年度暂无学法用法考试和法治培训记录。" + certificates
    return sentence + "。" + certificates
