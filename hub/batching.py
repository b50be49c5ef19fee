"""Group commit: one thread runs the jobs that many threads submitted meanwhile, in one go.

On SQLite one transaction runs at a time, and with a dozen threads each doing
its own small transaction most of the time went to handing the write lock and
the GIL around. Threads that submit here wait on a future instead, and the
batch pays for one BEGIN and one COMMIT.

A job nobody waits for (``urgent=False``: the delivery ledger's records) may
wait up to ``linger`` seconds for others to join it, or until an urgent one
comes; with jobs trickling in one at a time, each batch would otherwise carry
one job and its transaction's whole fixed cost.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Generic, TypeVar

log = logging.getLogger("leadhub.batching")

Job = TypeVar("Job")
Result = TypeVar("Result")

#: ``handle`` answers a batch with one result or one exception per job, in order.
Handler = Callable[[list[Job]], Sequence["Result | BaseException"]]


class GroupCommit(Generic[Job, Result]):
    """Runs ``handle`` on batches of submitted jobs on its own thread; ``after`` runs once their futures are set."""

    def __init__(self, name: str, handle: Handler, *, max_batch: int = 256, linger: float = 0.0,
                 after: Callable[[list[Job], Sequence[Result | BaseException]], None] | None = None) -> None:
        self.name = name
        self.handle = handle
        self.after = after
        self.max_batch = max_batch
        self.linger = linger
        self._queue: queue.SimpleQueue[tuple[Job, Future[Result], bool] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def submit(self, job: Job, *, urgent: bool = True) -> Future[Result]:
        """Queue ``job``; ``urgent=False`` lets it wait up to ``linger`` seconds for company."""
        if self._thread is None:  # started on first use: most objects that own one never need it
            with self._start_lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                    self._thread.start()
        future: Future[Result] = Future()
        self._queue.put((job, future, urgent))
        return future

    def run(self, job: Job) -> Result:
        """Submit and wait for the result (or the exception)."""
        return self.submit(job).result()

    def close(self) -> None:
        """Finish what was submitted, then stop the thread."""
        with self._start_lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout=30)

    def _run(self) -> None:
        while (first := self._queue.get()) is not None:
            self._run_batch(self._gather(first))

    def _gather(self, first: tuple[Job, Future[Result], bool]) -> list[tuple[Job, Future[Result], bool]]:
        """``first`` and what else is queued; if nothing urgent is among them, what comes within the linger."""
        batch = [first]
        deadline = None if first[2] else time.monotonic() + self.linger
        while len(batch) < self.max_batch:
            try:
                if deadline is None:
                    item = self._queue.get_nowait()
                else:
                    item = self._queue.get(timeout=max(deadline - time.monotonic(), 0.0))
            except queue.Empty:
                break
            if item is None:
                self._queue.put(None)  # stop after this batch
                break
            batch.append(item)
            if item[2]:
                deadline = None  # somebody waits: go with what is here
        return batch

    def _run_batch(self, batch: list[tuple[Job, Future[Result], bool]]) -> None:
        jobs = [job for job, _, _ in batch]
        try:
            results = self.handle(jobs)
        except Exception as exc:  # e.g. the database is down: every job gets the error
            results = [exc] * len(jobs)
        for (_, future, _), result in zip(batch, results):
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)
        if self.after is not None:
            try:
                self.after(jobs, results)
            except Exception:
                log.exception("%s: the work after a batch failed", self.name)
