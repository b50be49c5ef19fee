"""Group commit: one thread runs the jobs that many threads submitted meanwhile, in one go.

On SQLite one transaction runs at a time, and with a dozen threads each doing
its own small transaction most of the time went to handing the write lock and
the GIL around. Threads that submit here wait on a future instead, and the
batch pays for one BEGIN and one COMMIT.
"""

from __future__ import annotations

import logging
import queue
import threading
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

    def __init__(self, name: str, handle: Handler, *, max_batch: int = 256,
                 after: Callable[[list[Job], Sequence[Result | BaseException]], None] | None = None) -> None:
        self.name = name
        self.handle = handle
        self.after = after
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[tuple[Job, Future[Result]] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def submit(self, job: Job) -> Future[Result]:
        if self._thread is None:  # started on first use: most objects that own one never need it
            with self._start_lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                    self._thread.start()
        future: Future[Result] = Future()
        self._queue.put((job, future))
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
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)  # stop after this batch
                    break
                batch.append(item)
            self._run_batch(batch)

    def _run_batch(self, batch: list[tuple[Job, Future[Result]]]) -> None:
        jobs = [job for job, _ in batch]
        try:
            results = self.handle(jobs)
        except Exception as exc:  # e.g. the database is down: every job gets the error
            results = [exc] * len(jobs)
        for (_, future), result in zip(batch, results):
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)
        if self.after is not None:
            try:
                self.after(jobs, results)
            except Exception:
                log.exception("%s: the work after a batch failed", self.name)
