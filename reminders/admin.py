"""Admin (Chinese): the outbox read-only (what was sent, what failed, the body as sent), the
units' robots (the webhook URL and secret typed in, never shown back: hosts only), the
"send now" jobs. A liaison's email is set on the user (用户 → 邮箱) or with set_role --email."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from config.errors import DomainError

from .channels import secret_check, unit_channel_save, webhook_check
from .models import Channel, ReminderJob, ReminderMessage, UnitChannel
from .selectors import reminder_messages, unit_channels


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(ReminderMessage)
class ReminderMessageAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind_label", "exam", "unit", "channel", "recipient_masked", "period", "status",
                    "attempts", "count", "sent_at", "last_error")
    list_filter = ("status", "channel", "kind", "forced")
    search_fields = ("unit__code", "unit__name", "recipient_masked", "period")
    date_hierarchy = "created_at"
    readonly_fields = ("kind", "subject_key", "exam", "unit", "channel", "recipient_masked", "period", "forced",
                       "status", "attempts", "last_error", "count", "title", "body", "created_at", "sent_at",
                       "next_attempt_at", "expires_at")
    exclude = ("recipient_key", "user")

    def get_queryset(self, request: HttpRequest):
        return reminder_messages()

    @admin.display(description=_("提醒类型"), ordering="kind")
    def kind_label(self, obj: ReminderMessage) -> str:
        return obj.kind_label


class UnitChannelForm(forms.ModelForm):
    """The URL and the secret are typed in and sealed by ``unit_channel_save``; left empty on a
    change, they stay."""

    url = forms.CharField(label=_("Webhook 地址"), required=False, widget=forms.PasswordInput(render_value=False),
                          help_text=_("只接受 http/https；保存后只显示主机名。修改时留空则不变。"))
    secret = forms.CharField(label=_("加签密钥"), required=False, widget=forms.PasswordInput(render_value=False),
                             help_text=_("仅钉钉机器人；修改时留空则不变。"))
    clear_secret = forms.BooleanField(label=_("删除加签密钥"), required=False)

    class Meta:
        model = UnitChannel
        fields = ("unit", "channel")

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            # the checks of the service, without writing: a refused value stays a form error
            if data.get("url"):
                webhook_check(data["url"])
            elif self.instance.pk is None:
                raise DomainError("Webhook 地址不能为空。")
            channel = data.get("channel") or self.instance.channel
            if data.get("secret"):
                if channel != Channel.DINGTALK:
                    raise DomainError("只有钉钉机器人使用加签密钥。")
                secret_check(data["secret"])
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from None
        return data


@admin.register(UnitChannel)
class UnitChannelAdmin(admin.ModelAdmin):
    form = UnitChannelForm
    list_display = ("unit", "channel", "host", "signed_label", "updated_at")
    list_filter = ("channel",)
    search_fields = ("unit__code", "unit__name", "host")
    raw_id_fields = ("unit",)
    readonly_fields = ("host", "updated_at")

    def get_queryset(self, request: HttpRequest):
        return unit_channels()

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        # a robot stays with its unit and channel: another unit's robot is a new row
        return (*self.readonly_fields, "unit", "channel") if obj is not None else self.readonly_fields

    @admin.display(description=_("加签"), boolean=True)
    def signed_label(self, obj: UnitChannel) -> bool:
        return obj.signed

    def save_model(self, request, obj: UnitChannel, form, change) -> None:
        data = form.cleaned_data
        saved = unit_channel_save(unit=obj.unit, channel=obj.channel, url=data.get("url") or None,
                                  secret=data.get("secret") or None, clear_secret=bool(data.get("clear_secret")))
        obj.pk, obj.host = saved.pk, saved.host


@admin.register(ReminderJob)
class ReminderJobAdmin(ReadOnlyAdmin):
    list_display = ("id", "exam", "unit", "dry_run", "force", "status", "progress_done", "progress_total",
                    "started_by", "created_at", "message")
    list_filter = ("status", "dry_run")
    list_select_related = ("exam", "unit", "started_by")
    exclude = ("result",)
