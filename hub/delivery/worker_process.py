"""The embedded default's delivery worker, run as a child process of ``leadhub serve``.

One Python process has one GIL. With the webhook and the delivery threads in
the same process, a busy webhook starved delivery and a backlog grew (see the
README's "Performance"). So ``leadhub serve`` without an external broker starts
``leadhub worker --embedded`` beside itself and hands it dispatch ids on the
child's stdin, one JSON line per send. The child runs Dramatiq's in-process
broker, the delivery threads and the sweeper, as ``serve`` did before.

The dispatch rows stay the record: a child that dies loses only wake-up calls,
and the restarted child's first sweep (no grace, as for any in-memory broker)
sends every due row again. A child whose parent dies reads end-of-file on its
stdin, finishes what it holds and exits.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import IO

import msgspec

log = logging.getLogger("leadhub.delivery")


class Wakeup(msgspec.Struct, array_like=True):
    """One line on the child's stdin: dispatch ids to send to its broker, after ``delay`` seconds."""

    ids: list[int]
    delay: float | None = None


class WorkerProcess:
    """Starts, feeds, watches and stops the child; ``send`` is the parent's enqueue."""

    def __init__(self, check_every: float = 1.0) -> None:
        self.check_every = check_every
        self.restarts = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()  # one writer on the pipe; one spawn at a time
        self._stopping = threading.Event()
        self._watchdog = threading.Thread(target=self._watch, name="leadhub-worker-watchdog", daemon=True)

    def start(self) -> None:
        with self._lock:
            self._spawn()
        self._watchdog.start()

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def send(self, dispatch_ids: list[int], delay_seconds: float | None = None) -> None:
        """Hand ids to the child; a dead child is restarted first (its sweep covers what it lost)."""
        line = msgspec.json.encode(Wakeup(list(dispatch_ids), delay_seconds)) + b"\n"
        with self._lock:
            if self._stopping.is_set():
                return  # shutting down: the rows are due, the next start's sweep sends them
            if not self.alive():
                self._respawn()
            try:
                self._stdin().write(line)
                self._stdin().flush()
            except (BrokenPipeError, ValueError, OSError):
                self._respawn()  # died just now: the new child's first sweep finds these rows

    def stop(self, timeout: float = 20.0) -> None:
        """Close the child's stdin (it finishes in-flight tries and exits); kill it if it does not."""
        self._stopping.set()
        with self._lock:
            proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            if proc.stdin is not None:
                proc.stdin.close()
        except OSError:
            pass
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            log.error("the delivery worker did not stop in %.0fs; killing it", timeout)
            proc.kill()
            proc.wait()

    def _stdin(self) -> IO[bytes]:
        assert self._proc is not None and self._proc.stdin is not None
        return self._proc.stdin

    def _spawn(self) -> None:
        # Same interpreter, same environment, same output streams: its logs read as the hub's.
        self._proc = subprocess.Popen([sys.executable, "-m", "hub.cli", "worker", "--embedded"],
                                      stdin=subprocess.PIPE, env=os.environ.copy())

    def _respawn(self) -> None:
        code = self._proc.poll() if self._proc is not None else None
        if self._proc is not None and code is None:
            self._proc.kill()
            self._proc.wait()
        self.restarts += 1
        log.error("the delivery worker exited (code %s); starting it again (restart %d)", code, self.restarts)
        self._spawn()

    def _watch(self) -> None:
        while not self._stopping.wait(self.check_every):
            with self._lock:
                if not self._stopping.is_set() and not self.alive():
                    self._respawn()


def serve_stdin(enqueue: Callable[[list[int], float | None], None], stdin: IO[bytes] | None = None) -> None:
    """The child's side: send each line's ids to its broker until the parent closes the pipe."""
    # Ctrl-C in a terminal reaches the whole process group; the parent decides when this child stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    decoder = msgspec.json.Decoder(Wakeup)
    for line in stdin or sys.stdin.buffer:
        try:
            wakeup = decoder.decode(line)
        except msgspec.DecodeError:
            log.error("ignored a line the delivery worker could not read: %r", line[:200])
            continue
        enqueue(wakeup.ids, wakeup.delay)
