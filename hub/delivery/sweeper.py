"""The sweeper: re-sends every due or stale dispatch, so the broker is never the only record.

A message can be lost between commit and send (a crash), inside an in-memory
broker (a restart) or with a killed worker (an expired lease). The dispatch row
still says it is due, so after a grace period the sweeper enqueues it again.
The claim in the runner makes a duplicate message harmless.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from hub.models import RETRYABLE, Dispatch, utcnow

log = logging.getLogger("leadhub.sweeper")


def sweep(engine: Engine, enqueue: Callable[[list[int], float | None], None], grace_seconds: float,
          limit: int = 1000) -> int:
    """Enqueue dispatches due for more than ``grace_seconds`` and not leased; returns how many."""
    now = utcnow()
    table = Dispatch.__table__
    with Session(engine) as session:
        ids = list(
            session.execute(
                select(table.c.id)
                .where(
                    table.c.status.in_(RETRYABLE),
                    table.c.next_attempt_at <= now - timedelta(seconds=grace_seconds),
                    (table.c.leased_until.is_(None)) | (table.c.leased_until < now),
                )
                .order_by(table.c.next_attempt_at)
                .limit(limit)
            ).scalars()
        )
        if not ids:
            return 0
        # Touch the rows so the next sweep waits another grace period before resending.
        session.execute(update(table).where(table.c.id.in_(ids)).values(next_attempt_at=now))
        session.commit()
    enqueue(ids, None)
    log.info("sweeper re-sent %d dispatches", len(ids))
    return len(ids)


class Sweeper(threading.Thread):
    """Runs :func:`sweep` every ``interval`` seconds until stopped; the first sweep ignores the grace."""

    def __init__(self, engine: Engine, enqueue: Callable[[list[int], float | None], None],
                 interval: float, grace: float) -> None:
        super().__init__(name="leadhub-sweeper", daemon=True)
        self.engine, self.enqueue, self.interval, self.grace = engine, enqueue, interval, grace
        self.stopping = threading.Event()

    def run(self) -> None:
        grace = 0.0  # on start, whatever is due was lost with the previous process
        while not self.stopping.is_set():
            try:
                while sweep(self.engine, self.enqueue, grace) >= 1000:
                    pass
            except Exception:  # a database hiccup must not end the sweeper
                log.exception("sweep failed; trying again in %.1fs", self.interval)
            grace = self.grace
            self.stopping.wait(self.interval)

    def stop(self) -> None:
        self.stopping.set()
