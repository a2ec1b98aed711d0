"""Rotating the field keys while the system runs.

The operator puts the new key first: ``FIELD_ENCRYPTION_KEYS=new,old`` (and, for the lookup
hash, ``FIELD_HASH_KEYS=new,old``) and restarts. Everything still reads: a ciphertext names its
key, and lookups try the digest under every hash key. ``rotate_field_keys`` then registers the
new keys with the canary and walks the tables in primary-key batches. Each batch is one
transaction: it locks its rows, decrypts them, and writes back (one ``bulk_update``) only the
rows whose ciphertext is under an older key or whose digest is under an older hash key. A
stopped run is resumed by running it again: rows already under the new keys are read and
skipped. When nothing is left the older keys are retired in the canary and may be removed.

A roster sync during a hash rotation first re-hashes what is left (``rehash_pending``, inside
its own locked transaction), so its matching by digest sees every row under the new hash key."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

from django.apps import apps as django_apps
from django.db import transaction

from config.errors import DomainError

from . import idnumbers
from .fieldkeys import field_key_problems, field_keys_register, field_keys_retire
from .models import KeyPurpose, Staff, StaffChange

DEFAULT_BATCH = 5000


@dataclass
class RotationProgress:
    total: int = 0
    done: int = 0
    remaining: int = 0
    batches: int = 0
    rewritten: int = 0
    finished: bool = False
    retired: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def hash_rotation_in_progress() -> bool:
    return len(idnumbers.hash_secrets()) > 1


def _current_key_id() -> str:
    return idnumbers.key_id(idnumbers.encryption_secrets()[0])


def _locked_batch(*, after: int, batch: int) -> list[tuple[int, str, str]]:
    """The next rows in primary-key order, locked for the caller's transaction (a staff edit
    in between waits, then sees the new values)."""
    return list(
        Staff.objects.select_for_update().filter(pk__gt=after).order_by("pk")
        .values_list("pk", "id_number_cipher", "id_number_hash")[:batch]
    )


def _reseal_staff(rows: list[tuple[int, str, str]], *, rehash_only: bool) -> int:
    kid = _current_key_id()
    sealer = idnumbers.Sealer()
    changed: list[Staff] = []
    for pk, cipher, digest in rows:
        value = idnumbers.decrypt(cipher)
        new_digest = sealer.digest(value)
        new_cipher = cipher
        if not rehash_only and idnumbers.cipher_key_id(cipher) != kid:
            new_cipher = sealer.encrypt(value)
        if new_cipher != cipher or new_digest != digest:
            changed.append(Staff(pk=pk, id_number_cipher=new_cipher, id_number_hash=new_digest))
    if changed:
        Staff.objects.bulk_update(changed, ["id_number_cipher", "id_number_hash"])
    return len(changed)


def _reseal_changes(*, batch: int) -> tuple[int, int]:
    """The history's sealed ID numbers (what an undo puts back): each ciphertext under the new
    key, and its digest (``old_ref``/``new_ref``) under the new hash key, so an undo after the
    rotation restores a number that lookups still find, and compares digests of one key."""
    kid = _current_key_id()
    sealer = idnumbers.Sealer()
    scanned = rewritten = after = 0
    sealed = StaffChange.objects.filter(field="id_number").exclude(old_sealed="", new_sealed="")
    while True:
        with transaction.atomic():
            rows = list(
                sealed.select_for_update().filter(pk__gt=after).order_by("pk")
                .values_list("pk", "old_sealed", "new_sealed", "old_ref", "new_ref")[:batch]
            )
            if not rows:
                return scanned, rewritten
            changed: list[StaffChange] = []
            for pk, old_cipher, new_cipher, old_ref, new_ref in rows:
                values = {}
                for side, cipher, ref in (("old", old_cipher, old_ref), ("new", new_cipher, new_ref)):
                    if not cipher:
                        values[f"{side}_sealed"], values[f"{side}_ref"] = cipher, ref
                        continue
                    plain = idnumbers.decrypt(cipher)
                    current = idnumbers.cipher_key_id(cipher) == kid
                    values[f"{side}_sealed"] = cipher if current else sealer.encrypt(plain)
                    values[f"{side}_ref"] = sealer.digest(plain)
                if (values["old_sealed"], values["new_sealed"], values["old_ref"], values["new_ref"]) != (
                    old_cipher, new_cipher, old_ref, new_ref
                ):
                    changed.append(StaffChange(pk=pk, **values))
            if changed:
                StaffChange.objects.bulk_update(changed, ["old_sealed", "new_sealed", "old_ref", "new_ref"])
        scanned += len(rows)
        rewritten += len(changed)
        after = rows[-1][0]


def _channels_model():
    try:
        return django_apps.get_model("reminders", "UnitChannel")
    except LookupError:
        return None


def _reseal_channels() -> tuple[int, int]:
    """The robots' webhook addresses and signing secrets (a handful of rows: one batch)."""
    model = _channels_model()
    if model is None:
        return 0, 0
    kid = _current_key_id()
    with transaction.atomic():
        rows = list(model.objects.select_for_update().order_by("pk"))
        changed = []
        for row in rows:
            dirty = False
            for field in ("url_cipher", "secret_cipher"):
                cipher = getattr(row, field)
                if cipher and idnumbers.cipher_key_id(cipher) != kid:
                    setattr(row, field, idnumbers.encrypt(idnumbers.decrypt(cipher)))
                    dirty = True
            if dirty:
                changed.append(row)
        if changed:
            model.objects.bulk_update(changed, ["url_cipher", "secret_cipher"])
    return len(rows), len(changed)


def field_keys_register_checked() -> list[str]:
    """Register the new first keys with the canary (a wrong key never is: the configured keys
    must include the ones the data uses), or raise with the reason in Chinese."""
    added = field_keys_register()
    problems = field_key_problems()
    if problems:
        raise DomainError(problems[0])
    return added


def rotate_field_keys(
    *, batch: int = DEFAULT_BATCH, on_progress: Callable[[RotationProgress], None] | None = None,
) -> RotationProgress:
    if batch < 1:
        raise DomainError("--batch 必须是正整数。")
    field_keys_register_checked()
    channel_model = _channels_model()
    progress = RotationProgress(total=Staff.objects.count() + (channel_model.objects.count() if channel_model else 0))
    progress.remaining = progress.total
    after = 0
    while True:
        with transaction.atomic():  # one batch, committed before its progress is reported
            rows = _locked_batch(after=after, batch=batch)
            if not rows:
                break
            progress.rewritten += _reseal_staff(rows, rehash_only=False)
        after = rows[-1][0]
        progress.batches += 1
        progress.done += len(rows)
        progress.remaining = max(progress.total - progress.done, 0)
        if on_progress:
            on_progress(progress)
    history_scanned, history_changed = _reseal_changes(batch=batch)
    progress.done += history_scanned
    progress.rewritten += history_changed
    scanned, changed = _reseal_channels()
    progress.batches += 1 if scanned else 0
    progress.done += scanned
    progress.rewritten += changed
    # rows added while this ran were written under the new keys already
    progress.total = max(progress.total, progress.done)
    progress.remaining = 0
    progress.finished = True
    progress.retired = field_keys_retire(purpose=KeyPurpose.AES) + field_keys_retire(purpose=KeyPurpose.HMAC)
    if on_progress:
        on_progress(progress)
    return progress


def rehash_pending(*, batch: int = DEFAULT_BATCH) -> int:
    """Re-hash, inside the caller's transaction, every row whose digest is under an older hash
    key (a roster sync calls it during a hash rotation). Returns how many rows it rewrote."""
    if not hash_rotation_in_progress():
        return 0
    rewritten, after = 0, 0
    while True:
        rows = _locked_batch(after=after, batch=batch)
        if not rows:
            return rewritten
        rewritten += _reseal_staff(rows, rehash_only=True)
        after = rows[-1][0]
