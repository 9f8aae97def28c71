"""The portal's notion of "now": real time plus an offset the test API can advance."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

CHINA_TZ = ZoneInfo("Asia/Shanghai")


class PortalClock:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def offset(self) -> timedelta:
        row = self._conn.execute("SELECT offset_seconds FROM mock_clock WHERE id = 1").fetchone()
        return timedelta(seconds=row[0] if row else 0)

    def now(self) -> datetime:
        """Timezone-aware Beijing time, shifted by the mock offset."""
        return datetime.now(CHINA_TZ) + self.offset()

    def advance(self, delta: timedelta) -> datetime:
        if delta < timedelta(0):
            raise ValueError("the mock clock only moves forward")
        self._conn.execute(
            "UPDATE mock_clock SET offset_seconds = offset_seconds + ? WHERE id = 1",
            (delta.total_seconds(),),
        )
        return self.now()
