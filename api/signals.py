"""A user's API tokens are revoked when what they were issued for changes: the password is
changed, the user is deactivated, or their role is removed or changed. Whichever path makes
the change (``set_role``, ``set_role --password``, the admin, a web page) saves the user or
the role, so these receivers see it; a bulk ``QuerySet.update`` does not send them and must
call ``api.services.api_tokens_revoke`` itself."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from access.models import UserRole

from .services import api_tokens_revoke

User = get_user_model()


def _revoke(user_id: int | None) -> None:
    # in the same transaction as the change: both happen, or neither
    if user_id is not None:
        api_tokens_revoke(user_ids=[user_id])


@receiver(pre_save, sender=User, dispatch_uid="api-tokens-user-changed")
def _user_changed(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    if raw or instance.pk is None:
        return
    if update_fields is not None and not {"password", "is_active"} & set(update_fields):
        return  # e.g. last_login on every sign-in
    before = User.objects.filter(pk=instance.pk).values_list("password", "is_active").first()
    if before is None:
        return
    password, is_active = before
    if password != instance.password or (is_active and not instance.is_active):
        _revoke(instance.pk)


@receiver(pre_save, sender=UserRole, dispatch_uid="api-tokens-role-changed")
def _role_changed(sender, instance, raw=False, **kwargs) -> None:
    if raw or instance.pk is None:
        return
    before = UserRole.objects.filter(pk=instance.pk).values_list("user_id", "role", "unit_id", "staff_id").first()
    if before is not None and before != (instance.user_id, instance.role, instance.unit_id, instance.staff_id):
        _revoke(before[0])


@receiver(post_delete, sender=UserRole, dispatch_uid="api-tokens-role-removed")
def _role_removed(sender, instance, **kwargs) -> None:
    _revoke(instance.user_id)


@receiver(post_save, sender=UserRole, dispatch_uid="api-tokens-role-created")
def _role_created(sender, instance, created=False, raw=False, **kwargs) -> None:
    # a role given to a user who had none: tokens issued before it (none can be useful) go too
    if created and not raw:
        _revoke(instance.user_id)
