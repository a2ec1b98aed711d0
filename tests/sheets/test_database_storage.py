"""Uploads kept in the database (sheets.storage.DatabaseStorage): the bytes come back exactly,
inside the caller's transaction, on SQLite and on PostgreSQL (where they are sent bound, not as
an inlined literal)."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.db import transaction

from sheets.models import StoredFile
from sheets.storage import DatabaseStorage

pytestmark = pytest.mark.django_db(transaction=True)

EVERY_BYTE = bytes(range(256)) * 300 + "工号,姓名\n'=1+1\n".encode("gbk") + b"\x00\x00end"


def test_stored_bytes_read_back_exactly():
    storage = DatabaseStorage()
    name = storage.save("uploads/roster.csv", ContentFile(EVERY_BYTE))
    assert storage.exists(name) and storage.size(name) == len(EVERY_BYTE)
    with storage.open(name) as handle:
        assert handle.read() == EVERY_BYTE
    storage.delete(name)
    assert not storage.exists(name)
    with pytest.raises(FileNotFoundError):
        storage.open(name)


def test_a_file_saved_in_a_transaction_that_rolls_back_leaves_nothing():
    storage = DatabaseStorage()
    with pytest.raises(RuntimeError), transaction.atomic():
        name = storage.save("uploads/gone.csv", ContentFile(b"a,b\n1,2\n"))
        assert storage.open(name).read() == b"a,b\n1,2\n"  # visible inside its transaction
        raise RuntimeError
    assert not StoredFile.objects.filter(name__startswith="uploads/gone").exists()


def test_a_second_file_of_the_same_name_gets_its_own_name():
    storage = DatabaseStorage()
    first = storage.save("uploads/same.csv", ContentFile(b"1"))
    second = storage.save("uploads/same.csv", ContentFile(b"2"))
    assert first != second
    assert storage.open(first).read() == b"1" and storage.open(second).read() == b"2"
