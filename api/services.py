"""Writes of the api app: the login throttle, and submitting uploads."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any, BinaryIO

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from config.errors import UNMATCHED, DomainError, Problem
from config.metrics import LOGIN_FAILURES
from exams.enrolment import exam_refresh
from exams.imports import exam_import_create, exam_import_enqueue, exam_import_run
from exams.models import Exam
from sheets.models import ImportKind, ImportRecord

from .authentication import token_expired
from .models import LoginThrottle

# --- login throttle ---------------------------------------------------------------------


class LoginRefused(DomainError):
    def __init__(self, retry_after: int) -> None:
        minutes = max(1, -(-retry_after // 60))
        super().__init__(message=f"登录失败次数过多，请 {minutes} 分钟后再试。", code="throttled")
        self.retry_after = retry_after


class BadCredentials(DomainError):
    def __init__(self) -> None:
        super().__init__(message="用户名或密码错误。", code="invalid_credentials")


def _throttle_keys(username: str, address: str | None) -> list[str]:
    keys = [f"account:{username.strip().lower()[:150]}"]
    if address:
        keys.append(f"address:{address[:100]}")
    return keys


def _limit_of(key: str) -> int:
    """An account's limit, or an address's (one NAT or proxy may hold a whole office)."""
    return settings.LOGIN_ADDRESS_FAILURE_LIMIT if key.startswith("address:") else settings.LOGIN_FAILURE_LIMIT


def _reserve(keys: list[str], now: float) -> int:
    """Count this attempt as a failure in advance, atomically for every key. Returns 0 when the
    attempt may go on, else the seconds until it may be tried again. Refused attempts are not
    counted, and the password is never checked for them. Each key has its own limit
    (``LOGIN_FAILURE_LIMIT`` for the account, ``LOGIN_ADDRESS_FAILURE_LIMIT`` for the address)
    within the same window."""
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    cutoff = now - window
    stamp = timezone.now()
    with transaction.atomic():
        LoginThrottle.objects.filter(updated_at__lt=stamp - dt.timedelta(seconds=window)).delete()
        LoginThrottle.objects.bulk_create([LoginThrottle(key=k, updated_at=stamp) for k in keys], ignore_conflicts=True)
        # the rows are locked in key order, so two attempts never wait for each other in a cycle
        rows = list(LoginThrottle.objects.select_for_update().filter(key__in=keys).order_by("key"))
        for row in rows:
            row.failures = sorted(t for t in row.failures if t > cutoff)
        full = [(row, _limit_of(row.key)) for row in rows if len(row.failures) >= _limit_of(row.key)]
        if full:
            return max(int(row.failures[-limit] + window - now) + 1 for row, limit in full)
        for row in rows:
            row.failures.append(now)
            row.updated_at = stamp
        LoginThrottle.objects.bulk_update(rows, ["failures", "updated_at"])
    return 0


def _release(keys: list[str], now: float) -> None:
    """The password was right: forget the account's failures and un-count this attempt for the address."""
    with transaction.atomic():
        for row in LoginThrottle.objects.select_for_update().filter(key__in=keys).order_by("key"):
            if row.key.startswith("account:"):
                row.failures = []
            elif now in row.failures:
                row.failures.remove(now)
            row.save(update_fields=["failures"])


def login_authenticate(*, username: str, password: str, address: str | None, request: Any = None) -> Any:
    """Check a username and password, refusing the 6th wrong password within the window for
    one account (and the 51st from one address), also when the attempts arrive at the same time."""
    keys = _throttle_keys(username or "", address)
    now = time.time()
    retry_after = _reserve(keys, now)
    if retry_after:
        LOGIN_FAILURES.labels("throttled").inc()
        raise LoginRefused(retry_after)
    user = authenticate(request, username=username, password=password)
    if user is None:
        LOGIN_FAILURES.labels("bad_credentials").inc()
        raise BadCredentials()
    _release(keys, now)
    return user


# --- API tokens -------------------------------------------------------------------------


def api_token_issue(*, user: Any) -> Token:
    """The user's API token: the one they hold, or a new one when theirs has expired
    (``API_TOKEN_TTL_HOURS`` after its issue) or they hold none."""
    with transaction.atomic():
        token = Token.objects.select_for_update().filter(user=user).first()
        if token is not None and token_expired(token):
            token.delete()
            token = None
        if token is None:
            token = Token.objects.create(user=user)
    return token


def api_token_revoke(*, token: Token) -> None:
    """Revoke one token: requests made with it answer 401 from now on."""
    Token.objects.filter(pk=token.pk).delete()


def api_tokens_revoke(*, user_ids: list[int]) -> int:
    """Revoke every token of these users (their password changed, their role was removed or
    changed, or they were deactivated). Returns how many were revoked."""
    deleted, _ = Token.objects.filter(user_id__in=user_ids).delete()
    return deleted


# --- uploads ----------------------------------------------------------------------------




def exam_results_submit(*, exam: Exam, file: bytes | BinaryIO, file_name: str, strict: bool, user: Any) -> ImportRecord:
    """Store the results import's record and file, then enqueue the work once that has
    committed (``exams.imports``, as the command line runs it). With the broker down the
    record stays queued and the sweeper sends it later."""
    with transaction.atomic():
        record = exam_import_create(
            exam=exam, kind=ImportKind.EXAM_RESULTS, file=file, file_name=file_name, strict=strict, started_by=user
        )
        exam_import_enqueue(record=record)
    return record


def exam_exemptions_import(*, exam: Exam, file: bytes | BinaryIO, file_name: str, user: Any) -> ImportRecord:
    """Run an exemptions list now, as ``import_exemptions`` does (``exams.imports``). A file
    that cannot be read raises DomainError with its problems (the record stays, refused)."""
    record = exam_import_create(exam=exam, kind=ImportKind.EXAM_EXEMPTIONS, file=file, file_name=file_name,
                                started_by=user)
    result = exam_import_run(record=record)
    if result.unreadable:
        raise DomainError(result.message, problems=[Problem(**p) for p in result.errors])
    record.refresh_from_db()
    return record


# --- reading exam figures ---------------------------------------------------------------


def exam_refresh_for_read(*, exam: Exam) -> None:
    """Before an exam's figures or not-sat list are read: bring an open exam's candidates up to
    date with the roster (``exams.enrolment.exam_refresh``, as the command line does), at most
    once per ``API_EXAM_REFRESH_SECONDS`` per exam and process.

    Every roster change (sync, staff created or changed) already refreshes the open exams
    when it commits (the exams app's ``figures_changed`` receiver); this is the safety net
    behind it. Its check reads the roster's latest change over the whole staff table (50 ms
    at 200,000 staff), too much to repeat on every request of a list that liaisons reload
    all day. A closed exam is frozen: nothing to do."""
    if exam.is_closed():
        return
    if cache.add(f"api:exam-refresh:{exam.pk}", True, timeout=settings.API_EXAM_REFRESH_SECONDS):
        exam_refresh(exam=exam)


def event_attendance_record_by_staff_no(
    *, scope: Any, event: Any, staff_nos: list[str], status: str
) -> Any:
    """Record attendance for people named by 工号, among the staff the caller may see (others
    read as unknown, exactly like a 工号 that does not exist). All or nothing: one unknown 工号
    and nobody is recorded."""
    from roster.models import Staff
    from training.attendance import attendance_record

    staff_nos = list(dict.fromkeys(staff_nos))
    found = dict(scope.narrow(Staff.objects.filter(staff_no__in=staff_nos)).values_list("staff_no", "id"))
    unknown = [n for n in staff_nos if n not in found]
    if unknown:
        shown = "、".join(unknown[:10]) + ("等" if len(unknown) > 10 else "")
        raise DomainError(
            f"{len(unknown)} 个工号不存在或不在您的查看范围内：{shown}；未作任何改动。",
            problems=[Problem(None, "staff_nos", n, "人员不存在或不在您的查看范围内。", UNMATCHED) for n in unknown],
        )
    return attendance_record(event=event, staff_ids=[found[n] for n in staff_nos], status=status)

