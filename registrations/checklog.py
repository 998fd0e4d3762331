"""Writing check entries to the registration log in batches, off the REGISTER path.

Every check is logged, but a synchronous INSERT and commit per REGISTER cost more than the
whole decision. Entries are queued in process memory and written with one bulk INSERT when
`HOTDESK_CHECK_LOG_BATCH` are waiting or `HOTDESK_CHECK_LOG_MAX_DELAY` seconds have passed,
whichever comes first, and when the process exits; through a database outage they are kept
(up to `MAX_KEPT`) and written once it ends. A worker killed with SIGKILL loses at most
that much log; decisions, lockouts and outcome reports are never buffered. A delay of 0 writes
each entry at once (the test settings do this).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading

from django.conf import settings
from django.core.signals import setting_changed
from django.db import DatabaseError, close_old_connections, connections
from django.dispatch import receiver

from common.outages import OutageLog

from .models import RegistrationLogEntry

logger = logging.getLogger(__name__)

# Unwritten check entries kept through a database outage, per process: about 5 MB.
MAX_KEPT = 20_000


class CheckLogBuffer:
    """A thread-safe queue of unsaved log entries with a background flusher per process."""

    def __init__(self, *, batch: int, max_delay: float) -> None:
        self.batch = batch
        self.max_delay = max_delay
        self._pending: list[RegistrationLogEntry] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._owner_pid: int | None = None
        self._outage = OutageLog(
            logger,
            failing="Could not write registration log entries (%s); keeping them",
            recovered="Registration log entries are written again",
        )

    def add(self, entry: RegistrationLogEntry) -> None:
        if self.max_delay <= 0:
            entry.save(force_insert=True)
            return
        self._ensure_flusher()
        with self._lock:
            self._pending.append(entry)
            full = len(self._pending) >= self.batch
        if full:
            self._wake.set()

    def flush(self) -> int:
        """Write everything queued so far; returns how many entries were written.

        Entries the database refuses (an outage) are kept for the next flush, up to
        `MAX_KEPT`; the oldest beyond that are dropped and counted in the log. An outage
        logs one line when it starts and one when it ends.
        """
        with self._lock:
            pending, self._pending = self._pending, []
        if not pending:
            return 0
        try:
            RegistrationLogEntry.objects.bulk_create(pending, batch_size=500)
        except DatabaseError as error:
            with self._lock:
                kept = pending + self._pending
                self._pending = kept[-MAX_KEPT:]
                dropped = len(kept) - len(self._pending)
            self._outage.failed(error)
            if dropped:
                logger.error("Dropped the %d oldest unwritten registration log entries", dropped)
            return 0
        self._outage.working()
        return len(pending)

    def _ensure_flusher(self) -> None:
        # Started lazily and per process: a thread started before gunicorn forks its workers
        # would not exist in them.
        if self._owner_pid == os.getpid():
            return
        with self._lock:
            if self._owner_pid == os.getpid():
                return
            self._owner_pid = os.getpid()
            self._pending = []
            threading.Thread(target=self._run, name="check-log-flusher", daemon=True).start()
            atexit.register(self._flush_at_exit)

    def _run(self) -> None:
        while True:
            self._wake.wait(self.max_delay)
            self._wake.clear()
            close_old_connections()
            self.flush()

    def _flush_at_exit(self) -> None:
        self.flush()
        connections.close_all()


_buffer: CheckLogBuffer | None = None
_buffer_lock = threading.Lock()


def buffer() -> CheckLogBuffer:
    global _buffer
    if _buffer is None:
        with _buffer_lock:
            if _buffer is None:
                _buffer = CheckLogBuffer(
                    batch=settings.HOTDESK_CHECK_LOG_BATCH,
                    max_delay=settings.HOTDESK_CHECK_LOG_MAX_DELAY,
                )
    return _buffer


def add(entry: RegistrationLogEntry) -> None:
    buffer().add(entry)


def flush() -> int:
    return buffer().flush()


@receiver(setting_changed)
def _rebuild_on_settings_change(*, setting: str, **kwargs) -> None:
    # Lets tests run the buffered path with `settings.HOTDESK_CHECK_LOG_MAX_DELAY = ...`.
    global _buffer
    if setting in {"HOTDESK_CHECK_LOG_BATCH", "HOTDESK_CHECK_LOG_MAX_DELAY"}:
        _buffer = None
