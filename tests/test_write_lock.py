"""SQLite writers in different processes take turns on an flock, and a stuck one turns into an error, not a hang."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import threading
import time

import pytest
from sqlalchemy.exc import OperationalError

from hub.db import WriteLock


def test_a_writer_in_another_process_is_waited_for_then_followed(tmp_path):
    path = str(tmp_path / "db-writer.lock")
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, os, sys, time\n"
        f"fd = os.open({path!r}, os.O_RDWR | os.O_CREAT)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); time.sleep(0.5)")],
        stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    lock = WriteLock(path)
    started = time.monotonic()
    lock.acquire()
    waited = time.monotonic() - started
    lock.release()
    holder.wait()
    assert 0.2 < waited < 2.0  # it waited for the other process, and took over as soon as it let go


def test_a_writer_that_never_lets_go_becomes_database_is_locked(tmp_path):
    path = str(tmp_path / "db-writer.lock")
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    other = os.open(path, os.O_RDWR)  # another open file description: as another process would hold it
    fcntl.flock(other, fcntl.LOCK_EX)
    try:
        lock = WriteLock(path, timeout=0.3)
        started = time.monotonic()
        with pytest.raises(OperationalError, match="database is locked"):
            lock.acquire()
        assert time.monotonic() - started < 2.0
        # Nothing is left held: another thread of this process can still try.
        tried: list[bool] = []
        thread = threading.Thread(target=lambda: tried.append(lock._thread_lock.acquire(timeout=1)))
        thread.start()
        thread.join()
        assert tried == [True]
    finally:
        os.close(other)
        os.close(fd)


def test_the_lock_is_reentrant_within_a_thread(tmp_path):
    lock = WriteLock(str(tmp_path / "db-writer.lock"))
    lock.acquire()
    lock.acquire()
    lock.release()
    lock.release()
    other = os.open(str(tmp_path / "db-writer.lock"), os.O_RDWR)
    try:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # fully released: another holder can take it
    finally:
        os.close(other)
