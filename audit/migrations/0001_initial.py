# The model moved here from the api app; its table and rows stay where they are.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('api', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='AuditEvent',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='时间')),
                        ('username', models.CharField(max_length=150, verbose_name='用户名')),
                        ('action', models.CharField(choices=[('reveal_id_number', '查看完整身份证号'), ('export', '导出个人信息')], max_length=32, verbose_name='操作')),
                        ('target', models.CharField(max_length=255, verbose_name='对象')),
                        ('reason', models.TextField(blank=True, default='', verbose_name='理由')),
                        ('rows', models.PositiveIntegerField(default=0, verbose_name='行数')),
                        ('address', models.GenericIPAddressField(blank=True, null=True, verbose_name='来源地址')),
                        ('user', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to=settings.AUTH_USER_MODEL, verbose_name='用户')),
                    ],
                    options={
                        'db_table': 'api_auditevent',
                        'verbose_name': '审计记录',
                        'verbose_name_plural': '审计记录',
                        'ordering': ['-at', '-id'],
                        'indexes': [models.Index(fields=['-at'], name='audit_at_idx'), models.Index(fields=['user', '-at'], name='audit_user_at_idx')],
                    },
                ),
            ],
        ),
    ]
