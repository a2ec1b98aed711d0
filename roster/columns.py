"""The header aliases HR files use for the roster and the unit list."""

from __future__ import annotations

from sheets.columns import Column, Schema

ROSTER_SCHEMA = Schema(
    columns=(
        Column("staff_no", "工号", ("工号", "人员编号", "编号"), required=True),
        Column("name", "姓名", ("姓名",), required=True),
        Column("id_number", "身份证号", ("身份证号", "身份证号码", "公民身份号码"), required=True),
        Column("unit", "单位", ("单位", "所在单位", "工作单位"), required=True),
        Column("gender", "性别", ("性别",)),
        Column("position", "职务", ("职务", "岗位")),
        Column("category", "人员类别", ("人员类别", "编制类型")),
        Column("is_head", "是否正职", ("是否正职",)),
        Column("enforcement_cert", "执法证号", ("执法证号",)),
        Column("phone", "手机号", ("手机号", "手机号码", "联系电话")),
    )
)

UNIT_SCHEMA = Schema(
    columns=(
        Column("code", "代码", ("代码", "单位代码"), required=True),
        Column("name", "名称", ("名称", "单位名称"), required=True),
        Column("parent_code", "上级代码", ("上级代码", "上级单位代码")),
        Column("kind", "类型", ("类型", "单位类型")),
        Column("sort_order", "排序", ("排序", "顺序")),
    )
)
