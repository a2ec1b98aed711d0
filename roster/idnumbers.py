"""National ID numbers (GB 11643-1999): validation, and how they are kept at rest.

No database column holds a plain ID number. Each is stored three ways:
- ``cipher``: AES-GCM ciphertext (nonce + ciphertext, base64), readable only with the key;
- ``digest``: HMAC-SHA256 under a key derived from the same secret, for lookup and uniqueness;
- ``masked``: ``450203********123X``, the only form ever shown.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import os
import re
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_SHAPE = re.compile(r"^\d{17}[\dX]$")


def normalise(raw: str) -> str:
    return raw.strip().replace(" ", "").upper()


def check_digit(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=False))
    return _CHECK_CHARS[total % 11]


def problem(value: str, *, today: dt.date | None = None) -> str | None:
    """Why ``value`` (already normalised) is not a valid ID number, in Chinese; None if valid."""
    if not value:
        return "身份证号为空。"
    if not _SHAPE.match(value):
        return "身份证号应为 18 位：17 位数字加 1 位数字或 X。"
    try:
        born = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return "身份证号中的出生日期无效。"
    today = today or dt.date.today()
    if born.year < 1900 or born > today:
        return "身份证号中的出生日期无效。"
    if check_digit(value[:17]) != value[17]:
        return "身份证号校验位错误。"
    return None


def gender_of(value: str) -> str:
    return "男" if int(value[16]) % 2 == 1 else "女"


def mask(value: str) -> str:
    if len(value) < 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str) -> str:
    if not value:
        return ""
    return "*" * max(len(value) - 4, 0) + value[-4:]


@lru_cache(maxsize=4)
def _keys(secret: str) -> tuple[bytes, bytes]:
    material = secret.encode()
    try:
        decoded = base64.b64decode(secret, validate=True)
        if len(decoded) >= 16:
            material = decoded
    except ValueError:
        pass

    def derive(info: bytes) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"legaltrack-field-keys", info=info).derive(material)

    return derive(b"id-number-aes-gcm"), derive(b"id-number-hmac")


def _current_keys() -> tuple[bytes, bytes]:
    return _keys(settings.FIELD_ENCRYPTION_KEY)


def digest(value: str) -> str:
    return hmac.new(_current_keys()[1], value.encode(), hashlib.sha256).hexdigest()


def encrypt(value: str) -> str:
    nonce = os.urandom(12)
    return base64.b64encode(nonce + AESGCM(_current_keys()[0]).encrypt(nonce, value.encode(), None)).decode()


def decrypt(cipher: str) -> str:
    raw = base64.b64decode(cipher)
    return AESGCM(_current_keys()[0]).decrypt(raw[:12], raw[12:], None).decode()


class Sealer:
    """Encrypts and digests many numbers with one set of cipher objects (the bulk path)."""

    def __init__(self) -> None:
        enc_key, mac_key = _current_keys()
        self._aes = AESGCM(enc_key)
        self._mac = hmac.new(mac_key, digestmod=hashlib.sha256)

    def digest(self, value: str) -> str:
        mac = self._mac.copy()
        mac.update(value.encode())
        return mac.hexdigest()

    def encrypt(self, value: str) -> str:
        nonce = os.urandom(12)
        return base64.b64encode(nonce + self._aes.encrypt(nonce, value.encode(), None)).decode()
