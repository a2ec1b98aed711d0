# The model moved here from the api app; its table and rows stay where they are.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('api', '0001_initial'),
        ('roster', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='UserRole',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('role', models.CharField(choices=[('hr', '人事部门'), ('legal_office', '法治办'), ('liaison', '单位联络员'), ('viewer', '查阅人员')], max_length=16, verbose_name='角色')),
                        ('rate_limit_exempt', models.BooleanField(default=False, help_text='仅供系统对接和压力测试账号使用。', verbose_name='免于接口限流')),
                        ('updated_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='更新时间')),
                        ('unit', models.ForeignKey(blank=True, help_text='仅单位联络员需要：可查看该单位及其下级单位。', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='liaisons', to='roster.unit', verbose_name='负责单位')),
                        ('user', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='api_role', to=settings.AUTH_USER_MODEL, verbose_name='用户')),
                    ],
                    options={
                        'db_table': 'api_userrole',
                        'verbose_name': '用户角色',
                        'verbose_name_plural': '用户角色',
                        'ordering': ['user__username'],
                        'constraints': [models.CheckConstraint(condition=models.Q(models.Q(('role', 'liaison'), _negated=True), ('unit__isnull', False), _connector='OR'), name='userrole_liaison_has_unit')],
                    },
                ),
            ],
        ),
    ]
