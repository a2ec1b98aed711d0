import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("roster", "0002_staff_updated_index"),
    ]

    operations = [
        # added empty first, so that units older than the column keep "unknown" (they stood
        # for every past exam), then new units get the time they were created
        migrations.AddField(
            model_name="unit",
            name="created_at",
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name="创建时间"),
        ),
        migrations.AlterField(
            model_name="unit",
            name="created_at",
            field=models.DateTimeField(
                blank=True, default=django.utils.timezone.now, editable=False, null=True, verbose_name="创建时间"
            ),
        ),
    ]
