"""Logging a dependency that fails: one line when an outage starts, one when it ends.

During an outage every request fails alike; a line (or a traceback) per request says no more
and fills the disk. The SIP API's database, the location-table cache and the check-log writer
each keep one of these.
"""

from __future__ import annotations

import logging
import threading


class OutageLog:
    """Whether a dependency is failing, as this process last saw it; logs each change once."""

    def __init__(self, logger: logging.Logger, *, failing: str, recovered: str) -> None:
        self._logger = logger
        self._failing = failing  # a %-format taking the error
        self._recovered = recovered
        self._down = threading.Event()

    @property
    def down(self) -> bool:
        return self._down.is_set()

    def failed(self, error: object, *, level: int = logging.ERROR) -> None:
        if not self._down.is_set():
            self._down.set()
            self._logger.log(level, self._failing, error)

    def working(self) -> None:
        if self._down.is_set():
            self._down.clear()
            self._logger.warning(self._recovered)
