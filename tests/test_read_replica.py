"""The optional read replica (config/dbrouter.py, issue 18), with two database aliases: ``replica``
is a second connection to the test database (as Django's TEST MIRROR makes it), and the queries
of each are captured. Figures, lists and reports read from the replica; writes, jobs and a read
after a write inside a transaction read from the primary; without the alias nothing changes."""

from __future__ import annotations

import pytest
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext

from config.dbrouter import REPLICA, reading_replica
from exams.selectors import exam_not_sat, exam_stats, exam_stats_by_unit
from reports.annual import annual_report_build
from reports.models import RequestKind, SnapshotRun
from reports.selectors import participation_latest
from reports.snapshots import snapshot_refresh_request, snapshot_run_enqueue
from roster.models import Unit
from tests.exams.conftest import district, make_exam, sync
from tests.helpers import make_units


@pytest.fixture(scope="module", autouse=True)
def replica_alias(django_db_setup):
    """A ``replica`` alias: the test database's settings under another name, marked as its
    mirror, as ``DATABASE_REPLICA_URL`` with ``TEST: {"MIRROR": "default"}`` sets it up. Added
    once the test database exists and before the tests' database access is set up."""
    settings_dict = {**connections["default"].settings_dict}
    settings_dict["TEST"] = {**settings_dict.get("TEST", {}), "MIRROR": "default"}
    connections.settings[REPLICA] = settings_dict
    try:
        yield
    finally:
        connections[REPLICA].close()
        del connections[REPLICA]
        del connections.settings[REPLICA]


@pytest.fixture
def world(transactional_db):
    """Committed data (the replica is another connection: it sees committed rows only)."""
    make_units()
    sync(district())
    return make_exam()


both = pytest.mark.django_db(transaction=True, databases=["default", REPLICA])


class Queries:
    def __enter__(self) -> Queries:
        self.primary = CaptureQueriesContext(connections["default"]).__enter__()
        self.replica = CaptureQueriesContext(connections[REPLICA]).__enter__() if REPLICA in connections.settings else []
        return self

    def __exit__(self, *exc) -> None:
        if REPLICA in connections.settings:
            self.replica.__exit__(*exc)
        self.primary.__exit__(*exc)


@both
def test_figure_list_and_report_selectors_read_from_the_replica(world):
    expected = exam_stats.__wrapped__(exam=world)  # the same selector, unrouted, on the primary
    assert expected["expected"] == 15
    with Queries() as q:
        stats = exam_stats(exam=world)
    assert stats == expected
    assert len(q.replica) == 1 and len(q.primary) == 0
    with Queries() as q:
        by_unit = exam_stats_by_unit(exam=world, rollup=True)
        not_sat = list(exam_not_sat(exam=world))  # a QuerySet, evaluated after the call
        latest = participation_latest(exam=world)
        report = annual_report_build(year=world.year)
    assert by_unit[0]["expected"] == 15 and len(not_sat) == 15 and report and latest
    assert len(q.replica) >= 4 and len(q.primary) == 0, [x["sql"] for x in q.primary]


@both
def test_writes_and_reads_after_a_write_stay_on_the_primary(world):
    unit = Unit.objects.get(code="A")
    with reading_replica(), Queries() as q:
        Unit.objects.filter(pk=unit.pk).update(name="测试区财政局（改）")
        with transaction.atomic():  # read after write: the replica may lag; the primary has it
            Unit.objects.filter(pk=unit.pk).update(name="测试区财政局")
            stats = exam_stats(exam=world)
            names = list(exam_not_sat(exam=world).values_list("unit__name", flat=True))
    assert stats["expected"] == 15 and "测试区财政局" in names
    assert len(q.replica) == 0 and len(q.primary) >= 4


@both
def test_a_snapshot_refresh_job_reads_and_writes_on_the_primary(world):
    """Even asked inside reading_replica(), a task (the refresh job, run eagerly here) reads its
    figures from the primary: what it writes must match what is there now."""
    run = snapshot_refresh_request(kind=RequestKind.SCHEDULE, delay_seconds=0)
    with reading_replica(), Queries() as q:
        snapshot_run_enqueue(run=run)  # autocommit: sent at once; eager Celery runs it here
    assert SnapshotRun.objects.get(pk=run.pk).status == "succeeded"
    assert len(q.replica) == 0 and len(q.primary) > 5
    with Queries() as q:
        rows = participation_latest(exam=world)
    assert rows and len(q.replica) == 1 and len(q.primary) == 0


def test_without_a_replica_everything_reads_from_the_primary(world):
    removed = connections.settings.pop(REPLICA)  # no DATABASE_REPLICA_URL
    try:
        with reading_replica(), Queries() as q:
            stats = exam_stats(exam=world)
            not_sat = exam_not_sat(exam=world)
            assert not_sat.db == "default"
            assert len(list(not_sat)) == 15
        assert stats["expected"] == 15 and len(q.primary) == 2
    finally:
        connections.settings[REPLICA] = removed


@both
def test_the_api_reads_figures_and_the_not_sat_list_from_the_replica(world):
    """Through the real request path: the stats and the not-sat page read from the replica;
    the request's own writes (the token's use, the audit) are on the primary."""
    from tests.api.conftest import make_persona

    client = make_persona("office", "legal_office").client()
    expected = exam_stats.__wrapped__(exam=world)
    with Queries() as q:
        stats = client.get(f"/api/v1/exams/{world.pk}/stats/")
    assert stats.status_code == 200 and stats.json()["expected"] == expected["expected"] == 15
    assert any('"exams_candidate"' in x["sql"] for x in q.replica)
    assert not any('"exams_candidate"' in x["sql"] for x in q.primary)
    with Queries() as q:
        page = client.get(f"/api/v1/exams/{world.pk}/not-sat/")
    assert page.status_code == 200 and page.json()["count"] == 15
    assert any('"exams_candidate"' in x["sql"] for x in q.replica)
    assert not any('"exams_candidate"' in x["sql"] for x in q.primary)
