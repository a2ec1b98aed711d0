"""The header aliases of the exam platform's results export and of exemption lists."""

from __future__ import annotations

from sheets.columns import Column, Schema

STAFF_NO = Column("staff_no", "工号", ("工号", "人员编号", "职工号"))
ID_NUMBER = Column("id_number", "身份证号", ("身份证号", "身份证号码", "公民身份号码", "证件号码", "身份证"))
NAME = Column("name", "姓名", ("姓名", "考生姓名"), required=True)
UNIT = Column("unit", "所在单位", ("所在单位", "单位", "工作单位", "单位名称"))

RESULT_SCHEMA = Schema(
    columns=(
        STAFF_NO,
        ID_NUMBER,
        NAME,
        UNIT,
        Column("score", "考试成绩", ("考试成绩", "成绩", "分数", "得分"), required=True),
        Column("taken_at", "交卷时间", ("交卷时间", "考试时间")),
    ),
    ignored=("序号",),
)

EXEMPTION_SCHEMA = Schema(
    columns=(
        STAFF_NO,
        ID_NUMBER,
        NAME,
        UNIT,
        Column("reason", "免考原因", ("免考原因", "免考理由", "原因"), required=True),
    ),
    ignored=("序号", "备注"),
)
