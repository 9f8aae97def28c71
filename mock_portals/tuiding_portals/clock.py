"""The portal's notion of "now": real time plus an offset the test API can advance."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

CHINA_TZ = ZoneInfo("Asia/Shanghai")


class PortalClock:
    """Real time, or a frozen instant (embedded portals: identical pages on every run), plus an offset
    the test API advances."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def _row(self) -> tuple[float, str | None]:
        row = self._conn.execute("SELECT offset_seconds, frozen_at FROM mock_clock WHERE id = 1").fetchone()
        return (row[0], row[1]) if row else (0.0, None)

    def offset(self) -> timedelta:
        return timedelta(seconds=self._row()[0])

    def frozen_at(self) -> datetime | None:
        frozen = self._row()[1]
        return datetime.fromisoformat(frozen).astimezone(CHINA_TZ) if frozen else None

    def now(self) -> datetime:
        """Timezone-aware Beijing time (or the frozen instant), shifted by the mock offset."""
        offset, frozen = self._row()
        base = datetime.fromisoformat(frozen).astimezone(CHINA_TZ) if frozen else datetime.now(CHINA_TZ)
        return base + timedelta(seconds=offset)

    def freeze(self, at: datetime | None) -> None:
        """Stop the clock at `at` (None: real time again)."""
        self._conn.execute("UPDATE mock_clock SET frozen_at = ? WHERE id = 1", (at.isoformat() if at else None,))

    def advance(self, delta: timedelta) -> datetime:
        if delta < timedelta(0):
            raise ValueError("the mock clock only moves forward")
        self._conn.execute(
            "UPDATE mock_clock SET offset_seconds = offset_seconds + ? WHERE id = 1",
            (delta.total_seconds(),),
        )
        return self.now()
