"""sheets.writers.csv_stream: the same document as csv_bytes, in pieces, from an iterator."""

from __future__ import annotations

from sheets import writers


def test_pieces_join_to_the_whole_document_with_one_bom():
    rows = ([f"{i:04d}", "=SUM(A1)" if i == 3 else f"人员{i}"] for i in range(2500))
    pieces = list(writers.csv_stream(["工号", "姓名"], rows, lineterminator="\n"))
    assert len(pieces) == 3  # 1,000 rows a piece: the heading and rows 1-1000, 1001-2000, the rest
    whole = writers.csv_bytes(["工号", "姓名"], ([f"{i:04d}", "=SUM(A1)" if i == 3 else f"人员{i}"] for i in range(2500)),
                              lineterminator="\n")
    assert b"".join(pieces) == whole
    assert whole.startswith("\ufeff".encode()) and b"".join(pieces[1:]).count("\ufeff".encode()) == 0
    assert "\n0003,'=SUM(A1)\n" in whole.decode("utf-8-sig")


def test_rows_are_read_as_the_pieces_are_taken():
    taken = []

    def rows():
        for i in range(3000):
            taken.append(i)
            yield [i]

    stream = writers.csv_stream(["n"], rows())
    next(stream)
    assert len(taken) == 1000  # the first piece needed the first 1,000 rows, no more
