"""Seeds the kinds table with the codes events used when the kinds were fixed in code (they
are a contract and stay exactly as they were), and adds 述法 and 出庭应诉."""

from decimal import Decimal

from django.db import migrations

# (code, name, counts_hours, default_hours, sort_order)
KINDS = (
    ("executive_meeting", "常务会学法", True, Decimal("1"), 10),
    ("study_session", "法治专题学习", True, Decimal("3"), 20),
    ("lecture", "法治讲座", True, Decimal("2"), 30),
    ("court_observation", "旁听庭审", True, Decimal("4"), 40),
    ("enforcement_training", "执法培训", True, Decimal("8"), 50),
    ("online_course", "网络课程", True, None, 60),
    ("leader_law_report", "述法", False, Decimal("1"), 70),
    ("court_appearance", "出庭应诉", False, Decimal("2"), 80),
)


def seed(apps, schema_editor):
    EventKind = apps.get_model("training", "EventKind")
    for code, name, counts_hours, default_hours, sort_order in KINDS:
        # idempotent: a kind already there (edited in the admin) keeps its settings
        EventKind.objects.get_or_create(code=code, defaults={
            "name": name, "counts_hours": counts_hours, "default_hours": default_hours, "sort_order": sort_order,
        })


def unseed(apps, schema_editor):
    apps.get_model("training", "EventKind").objects.filter(code__in=[k[0] for k in KINDS]).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("training", "0004_event_kinds_and_training_targets"),
    ]

    operations = [
        migrations.RunPython(seed, unseed),
    ]
