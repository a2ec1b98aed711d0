"""A made-up district for demonstrations, tests and benchmarks: units, and staff with valid
(but fictitious) ID numbers. Deterministic for a given seed."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from dataclasses import dataclass

from .idnumbers import check_digit

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉建国志文斌宇浩凯琳晶欣怡婷雪梅海波宁飞鑫"
    "瑞丹蕾颖博晨阳佳俊峰雯倩琴云成龙德林健亮锋帆韬睿哲思源"
)
REGIONS = ("450202", "450203", "450204", "450205", "450206", "450211", "450221", "450222", "450223", "450224")
POSITIONS = ("科员", "副科长", "科长", "副主任", "主任", "办事员", "专技人员", "工勤人员")
CATEGORIES = ("行政编制", "事业编制", "聘用人员")
TEACHER_POSITIONS = ("教师", "教师", "教师", "班主任", "教研组长", "副校长", "校长")


@dataclass(frozen=True)
class DemoUnit:
    code: str
    name: str
    parent: str
    kind: str
    size: int


def demo_units() -> list[DemoUnit]:
    units = [DemoUnit("LD", "柳东新区", "", "admin", 0)]
    departments = [
        ("党政办公室", 60), ("组织人事局", 45), ("经济发展局", 70), ("财政局", 65), ("规划建设局", 80),
        ("自然资源局", 55), ("社会事务局", 75), ("商务旅游局", 50), ("应急管理局", 45), ("行政审批局", 60),
        ("征地拆迁补偿中心", 55), ("法规处", 25), ("市场监督管理分局", 70), ("生态环境分局", 40),
        ("城市管理局", 85), ("投资促进局", 40), ("科技创新局", 35),
    ]
    for i, (name, size) in enumerate(departments, start=1):
        units.append(DemoUnit(f"LD{i:02d}", f"柳东新区{name}", "LD", "department", size))
    for code, town in (("LR", "雒容镇"), ("LB", "洛埠镇")):
        units.append(DemoUnit(code, town, "LD", "town", 150))
        units.append(DemoUnit(f"{code}01", f"{town}综合行政执法队", code, "other", 45))
        units.append(DemoUnit(f"{code}02", f"{town}社会事务办公室", code, "other", 35))
    units.append(DemoUnit("JY", "柳东新区教育局", "LD", "education", 40))
    schools = [
        "柳东第一中学", "柳东第二中学", "柳东实验中学", "雒容中学", "洛埠中学",
        "柳东第一小学", "柳东第二小学", "官塘小学", "雒容小学", "洛埠小学",
    ]
    for i, name in enumerate(schools, start=1):
        units.append(DemoUnit(f"JY{i:02d}", name, "JY", "school", 66 if "中学" in name else 60))
    return units


def make_id_number(rng: random.Random, *, born: dt.date | None = None, male: bool | None = None) -> str:
    born = born or dt.date(1962, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 38))
    male = rng.random() < 0.5 if male is None else male
    seq = rng.randrange(0, 500) * 2 + (1 if male else 0)
    first17 = f"{rng.choice(REGIONS)}{born:%Y%m%d}{seq:03d}"
    return first17 + check_digit(first17)


def make_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


def units_csv(units: list[DemoUnit]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["代码", "名称", "上级代码", "类型", "排序"])
    for order, unit in enumerate(units):
        writer.writerow([unit.code, unit.name, unit.parent, unit.kind, order])
    return buffer.getvalue().encode("utf-8")


@dataclass
class DemoPerson:
    staff_no: str
    name: str
    id_number: str
    unit_code: str
    position: str
    category: str
    is_head: bool
    enforcement_cert: str
    phone: str


def demo_people(units: list[DemoUnit], *, seed: int = 2023) -> list[DemoPerson]:
    rng = random.Random(seed)
    people: list[DemoPerson] = []
    used_ids: set[str] = set()
    number = 0
    for unit in units:
        for i in range(unit.size):
            number += 1
            id_number = make_id_number(rng)
            while id_number in used_ids:
                id_number = make_id_number(rng)
            used_ids.add(id_number)
            is_head = i == 0
            school = unit.kind == "school"
            position = ("校长" if school else "局长" if unit.kind == "department" else "主任") if is_head else rng.choice(
                TEACHER_POSITIONS if school else POSITIONS
            )
            enforcing = unit.kind in ("other", "department") and ("执法" in unit.name or rng.random() < 0.08)
            people.append(
                DemoPerson(
                    staff_no=f"{number:05d}",
                    name=make_name(rng),
                    id_number=id_number,
                    unit_code=unit.code,
                    position=position,
                    category="事业编制" if school else rng.choice(CATEGORIES),
                    is_head=is_head,
                    enforcement_cert=f"桂执{rng.randrange(10**7, 10**8)}" if enforcing else "",
                    phone=f"1{rng.choice('3578')}{rng.randrange(10**8, 10**9)}",
                )
            )
    return people


def roster_csv(people: list[DemoPerson], *, encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["序号", "工号", "姓名", "身份证号", "单位", "职务", "人员类别", "是否正职", "执法证号", "手机号"])
    for i, p in enumerate(people, start=1):
        writer.writerow(
            [i, p.staff_no, p.name, p.id_number, p.unit_code, p.position, p.category, "是" if p.is_head else "否",
             p.enforcement_cert, p.phone]
        )
    return buffer.getvalue().encode(encoding)
