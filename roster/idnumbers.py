"""National ID numbers (GB 11643-1999): validation, and how they are kept at rest.

No database column holds a plain ID number. Each is stored three ways:
- ``cipher``: AES-GCM ciphertext ``<key id>$base64(nonce + ciphertext)``, readable only with the
  key (the older form without the key id stays readable);
- ``digest``: HMAC-SHA256 under a key derived from the same secret, for lookup and uniqueness;
- ``masked``: ``450203********123X``, the only form ever shown.
"""

from __future__ import annotations

import base64
import datetime as dt
import hmac
import os
import re
from functools import lru_cache
from operator import mul

import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_SHAPE = re.compile(r"^\d{17}[\dX]$")
# what Excel makes of an 18-digit number in a cell not formatted as text: 4.50203E+17 on
# screen and in a CSV, or the 15 digits it keeps followed by zeros
_SCIENTIFIC = re.compile(r"^\d+(\.\d+)?E\+?\d+$")
EXCEL_NUMBER = "身份证号被 Excel 存成了数字，后几位已经丢失；请把该列设置为“文本”格式后重新导出。"


def excel_mangled(value: str) -> bool:
    """``value`` (normalised) is an ID number that Excel turned into a number: scientific
    notation, or 18 digits whose last three Excel zeroed (and the check digit then fails)."""
    if _SCIENTIFIC.match(value):
        return True
    return len(value) == 18 and value.isdigit() and value.endswith("000") and check_digit(value[:17]) != value[17]


def normalise(raw: str) -> str:
    return raw.strip().replace(" ", "").upper()


_WEIGHT_OF_ZEROS = 48 * sum(_WEIGHTS)  # ord("0") times every weight


def check_digit(first17: str) -> str:
    # map() over the ASCII bytes keeps the loop in C: this runs once per row of a roster
    total = sum(map(mul, _WEIGHTS, first17.encode())) - _WEIGHT_OF_ZEROS
    return _CHECK_CHARS[total % 11]


def problem(value: str, *, today: dt.date | None = None) -> str | None:
    """Why ``value`` (already normalised) is not a valid ID number, in Chinese; None if valid."""
    if not value:
        return "身份证号为空。"
    if excel_mangled(value):
        return EXCEL_NUMBER
    if not _SHAPE.match(value):
        return "身份证号应为 18 位：17 位数字加 1 位数字或 X。"
    if not _plausible_birth_date(value[6:14], today or dt.date.today()):
        return "身份证号中的出生日期无效。"
    if check_digit(value[:17]) != value[17]:
        return "身份证号校验位错误。"
    return None


_WEIGHT_VECTOR = np.array(_WEIGHTS, dtype=np.int64)
_CHECK_CODES = np.frombuffer(_CHECK_CHARS.encode(), dtype=np.uint8)
_ZERO, _NINE, _X = ord("0"), ord("9"), ord("X")


def problems(values: list[str], *, today: dt.date | None = None) -> list[str | None]:
    """``problem`` for many values at once, with the same answers. The shape and check digit
    are tested as one array of bytes, so a roster of 200,000 numbers costs no Python call per
    number; only the numbers that fail are explained one by one."""
    today = today or dt.date.today()
    reasons: list[str | None] = [None] * len(values)
    eighteen = [i for i, value in enumerate(values) if len(value) == 18 and value.isascii()]
    suspects = set(range(len(values))).difference(eighteen)
    if eighteen:
        digits = np.frombuffer("".join([values[i] for i in eighteen]).encode(), dtype=np.uint8).reshape(-1, 18)
        body, last = digits[:, :17], digits[:, 17]
        shaped = ((body >= _ZERO) & (body <= _NINE)).all(axis=1) & (((last >= _ZERO) & (last <= _NINE)) | (last == _X))
        expected = _CHECK_CODES[((body.astype(np.int64) - _ZERO) @ _WEIGHT_VECTOR) % 11]
        wrong = ~shaped | (expected != last)
        suspects.update(eighteen[i] for i in np.flatnonzero(wrong).tolist())
        births = {values[i][6:14] for i in eighteen}
        impossible = {born for born in births if not _plausible_birth_date(born, today)}
        if impossible:
            suspects.update(i for i in eighteen if values[i][6:14] in impossible)
    for i in suspects:
        reasons[i] = problem(values[i], today=today)
    return reasons


@lru_cache(maxsize=65536)
def _plausible_birth_date(yyyymmdd: str, today: dt.date) -> bool:
    try:
        born = dt.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:]))
    except ValueError:
        return False
    return 1900 <= born.year and born <= today


def gender_of(value: str) -> str:
    return "男" if int(value[16]) % 2 == 1 else "女"


def mask(value: str) -> str:
    """``450203********123X``. A value shorter than an ID number (a phone typed into the ID
    column, a number cut short) shows only its last four characters, as a masked phone does."""
    if len(value) >= 18:
        return value[:6] + "*" * (len(value) - 10) + value[-4:]
    if len(value) < 8:
        return "*" * len(value)
    return "*" * (len(value) - 4) + value[-4:]


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


CANARY_TEXT = b"legaltrack-field-key-canary"
KEY_ID_SEPARATOR = "$"


@lru_cache(maxsize=16)
def key_canary(secret: str, purpose: str) -> str:
    """A keyed MAC of a fixed string: tells whether a key is the one registered, never the key."""
    enc_key, mac_key = _keys(secret)
    return hmac.digest(enc_key if purpose == "aes" else mac_key, CANARY_TEXT, "sha256").hex()


def key_id(secret: str) -> str:
    """The short id a ciphertext carries: the first 8 hex digits of the key's canary."""
    return key_canary(secret, "aes")[:8]


def encryption_secrets() -> list[str]:
    return list(getattr(settings, "FIELD_ENCRYPTION_KEYS", None) or [settings.FIELD_ENCRYPTION_KEY])


def hash_secrets() -> list[str]:
    return list(getattr(settings, "FIELD_HASH_KEYS", None) or encryption_secrets())


def _current_keys() -> tuple[bytes, bytes]:
    return _keys(encryption_secrets()[0])[0], _keys(hash_secrets()[0])[1]


@lru_cache(maxsize=8)
def _ring(secrets: tuple[str, ...]) -> dict[str, AESGCM]:
    return {key_id(secret): AESGCM(_keys(secret)[0]) for secret in secrets}


class UnknownKey(ValueError):
    """The ciphertext names a key that is not configured."""


def digest(value: str) -> str:
    return hmac.digest(_current_keys()[1], value.encode(), "sha256").hex()


def digests_all(value: str) -> list[str]:
    """The value's digest under every configured hash key, the current one first: lookups try
    all of them, so matching keeps working while a rotation re-hashes the rows."""
    return [hmac.digest(_keys(secret)[1], value.encode(), "sha256").hex() for secret in hash_secrets()]


def cipher_key_id(cipher: str) -> str:
    """The key id a ciphertext carries; "" for the older form without one."""
    head, sep, _ = cipher.partition(KEY_ID_SEPARATOR)
    return head if sep else ""


def encrypt(value: str) -> str:
    secret = encryption_secrets()[0]
    nonce = os.urandom(12)
    body = base64.b64encode(nonce + AESGCM(_keys(secret)[0]).encrypt(nonce, value.encode(), None)).decode()
    return f"{key_id(secret)}{KEY_ID_SEPARATOR}{body}"


def decrypt(cipher: str) -> str:
    """Reads both forms: ``<key id>$base64(nonce + ct)``, and the older ``base64(nonce + ct)``
    (tried with each configured key)."""
    ring = _ring(tuple(encryption_secrets()))
    kid, sep, body = cipher.partition(KEY_ID_SEPARATOR)
    if sep:
        if kid not in ring:
            raise UnknownKey(f"密文使用的密钥（编号 {kid}）未在 FIELD_ENCRYPTION_KEYS 中配置。")
        raw = base64.b64decode(body)
        return ring[kid].decrypt(raw[:12], raw[12:], None).decode()
    raw = base64.b64decode(cipher)
    failure: Exception | None = None
    for aes in ring.values():
        try:
            return aes.decrypt(raw[:12], raw[12:], None).decode()
        except InvalidTag as exc:
            failure = exc
    raise failure or InvalidTag()


class Sealer:
    """Encrypts and digests many numbers with one set of cipher objects (the bulk path)."""

    _NONCES_PER_DRAW = 4096

    def __init__(self) -> None:
        enc_key, self._mac_key = _current_keys()
        self._aes = AESGCM(enc_key)
        self._prefix = key_id(encryption_secrets()[0]) + KEY_ID_SEPARATOR
        self._nonces = b""
        self._offset = 0

    def digest(self, value: str) -> str:
        return hmac.digest(self._mac_key, value.encode(), "sha256").hex()

    def digests(self, values: list[str]) -> list[str]:
        """``digest`` of each value; an empty value gets an empty digest."""
        key, one = self._mac_key, hmac.digest
        return [one(key, value.encode(), "sha256").hex() if value else "" for value in values]

    def _nonce(self) -> bytes:
        # one urandom call per few thousand nonces instead of one per number
        if self._offset >= len(self._nonces):
            self._nonces = os.urandom(12 * self._NONCES_PER_DRAW)
            self._offset = 0
        nonce = self._nonces[self._offset : self._offset + 12]
        self._offset += 12
        return nonce

    def encrypt(self, value: str) -> str:
        nonce = self._nonce()
        return self._prefix + base64.b64encode(nonce + self._aes.encrypt(nonce, value.encode(), None)).decode()
