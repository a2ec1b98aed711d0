"""The ID-number rules, one by one and for a whole column at once."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from roster import idnumbers
from roster.demo import make_id_number

TODAY = dt.date(2026, 11, 30)


def test_a_valid_number_has_no_problem():
    assert idnumbers.problem("11010519491231002X", today=TODAY) is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "身份证号为空。"),
        ("1101051949123100", "身份证号应为 18 位：17 位数字加 1 位数字或 X。"),
        ("11010519491231002Y", "身份证号应为 18 位：17 位数字加 1 位数字或 X。"),
        ("110105194912310021", "身份证号校验位错误。"),
        ("110105194902300028", "身份证号中的出生日期无效。"),
        ("110105203012310026", "身份证号中的出生日期无效。"),
    ],
)
def test_each_kind_of_bad_number_gets_its_own_message(value, message):
    assert idnumbers.problem(value, today=TODAY) == message


def _mangled(rng: random.Random, value: str) -> str:
    choice = rng.randrange(8)
    if choice == 0:
        return value[:17] + rng.choice("0123456789X")
    if choice == 1:
        return value[:-1]
    if choice == 2:
        return value[:6] + "1899" + value[10:]
    if choice == 3:
        return value[:10] + "1332" + value[14:]
    if choice == 4:
        return value[:5] + "Ａ" + value[6:]
    if choice == 5:
        return value[:8] + "٣" + value[9:]
    if choice == 6:
        return ""
    return value + "9"


def test_the_column_check_gives_the_same_answer_as_the_single_check_for_every_number():
    rng = random.Random(7)
    values = []
    for _ in range(3000):
        value = make_id_number(rng)
        values.append(value if rng.random() < 0.5 else _mangled(rng, value))
    expected = [idnumbers.problem(value, today=TODAY) for value in values]
    assert idnumbers.problems(values, today=TODAY) == expected
    assert any(reason is None for reason in expected)
    assert len({reason for reason in expected}) >= 5


def test_the_column_check_of_nothing_is_nothing():
    assert idnumbers.problems([], today=TODAY) == []


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("11010519491231002X", "110105********002X"),
        ("13800138000", "*******8000"),  # a phone typed into the ID column
        ("1101051949123100", "************3100"),  # a number cut short
        ("1234567", "*******"),
    ],
)
def test_mask_hides_at_least_eight_characters_of_any_value(value, shown):
    assert idnumbers.mask(value) == shown
