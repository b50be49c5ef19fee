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
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from hub.models import RETRYABLE, Dispatch, utcnow

log = logging.getLogger("leadhub.sweeper")


def sweep(engine: Engine, enqueue: Callable[[list[int], float | None], None], grace_seconds: float,
          limit: int = 1000, since: datetime | None = None) -> int:
    """Enqueue dispatches due for more than ``grace_seconds`` (before ``since``, default now) and not leased.

    Returns how many. Rows it sends are touched to "now", so a following sweep of the same
    round (same ``since``) moves on to the next rows instead of sending these again.
    """
    now = utcnow()
    since = since or now
    table = Dispatch.__table__
    with Session(engine) as session:
        ids = list(
            session.execute(
                select(table.c.id)
                .where(
                    table.c.status.in_(RETRYABLE),
                    table.c.next_attempt_at <= since - timedelta(seconds=grace_seconds),
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
    """Runs :func:`sweep` every ``interval`` seconds until stopped.

    ``first_grace`` is the grace of the first round: 0 for the in-memory broker, whose
    messages died with the previous process; the normal grace for Redis and RabbitMQ,
    which still hold them (a worker starting while leads arrive must not duplicate them all).
    """

    def __init__(self, engine: Engine, enqueue: Callable[[list[int], float | None], None],
                 interval: float, grace: float, first_grace: float = 0.0) -> None:
        super().__init__(name="leadhub-sweeper", daemon=True)
        self.engine, self.enqueue, self.interval, self.grace = engine, enqueue, interval, grace
        self.first_grace = first_grace
        self.stopping = threading.Event()

    def run(self) -> None:
        grace = self.first_grace
        while not self.stopping.is_set():
            try:
                # One round may take several pages; without the fixed ``since`` a zero grace would
                # resend the first page again and again while more than a page of rows is due.
                since = utcnow()
                while sweep(self.engine, self.enqueue, grace, since=since) >= 1000:
                    pass
            except Exception:  # a database hiccup must not end the sweeper
                log.exception("sweep failed; trying again in %.1fs", self.interval)
            grace = self.grace
            self.stopping.wait(self.interval)

    def stop(self) -> None:
        self.stopping.set()
