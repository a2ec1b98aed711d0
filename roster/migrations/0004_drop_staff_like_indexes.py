from django.db import migrations

# Django gives every unique varchar column on PostgreSQL a second, varchar_pattern_ops index for
# LIKE 'prefix%' lookups. Nothing looks staff up by a prefix of 工号 or of the ID-number hash,
# and each extra index on 200,000 rows roughly doubles the cost of a first roster load (the
# hash index especially: its keys arrive in random order).
LIKE_INDEXES = """
    SELECT indexname FROM pg_indexes
     WHERE schemaname = current_schema() AND tablename = 'roster_staff'
       AND indexname LIKE '%%\\_like'
       AND (indexdef LIKE '%%(id_number_hash varchar_pattern_ops)%%' OR indexdef LIKE '%%(staff_no varchar_pattern_ops)%%')
"""


def drop_like_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(LIKE_INDEXES)
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [
        ("roster", "0003_unit_created_at"),
    ]

    operations = [
        migrations.RunPython(drop_like_indexes, migrations.RunPython.noop),
    ]
