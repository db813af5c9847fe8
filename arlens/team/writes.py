"""The app's writes: short read-write transactions that never meet a rerun reading the file.

DuckDB lets one process hold a file read-write, and within a process a file cannot be open
read-only and read-write at once (DESIGN.md §5). The dashboard's reruns read the file read-only
(ui/data.py) and hold it only while they run; an action takes the file read-write for one
transaction. `STORE_LOCK` orders the two inside the app: reruns share it, a write takes it alone
and waits for the reruns already reading (new ones wait behind the write, so writes are not
starved). Another process (`arlens import`) holding the file makes the write fail at once with
StoreBusyError, whose one line names that process; the caller keeps what the user typed.
"""

from __future__ import annotations

import gc
import threading
import time
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from arlens.store import Store, StoreBusyError
from arlens.team.roles import User

T = TypeVar("T")
WRITE_WAIT_S = 30.0  # how long a write waits for reruns already reading


class ReadWriteLock:
    """Many readers or one writer; a waiting writer holds back new readers.

    Readers are counted per thread: a rerun's thread that ended without releasing (a page run on
    its own, an interrupted script) stops counting once it is gone, so it cannot lock writes out.
    """

    def __init__(self):
        self._cond = threading.Condition()
        self._readers: Counter[threading.Thread] = Counter()  # (a thread's ident can be reused)
        self._writer = False
        self._writers_waiting = 0

    def acquire_read(self, timeout: float | None = None) -> bool:
        """False when a write kept the lock for `timeout` seconds (a long import)."""
        with self._cond:
            if not self._cond.wait_for(
                lambda: not (self._writer or self._writers_waiting), timeout
            ):
                return False
            self._readers[threading.current_thread()] += 1
            return True

    def release_read(self) -> None:
        with self._cond:
            me = threading.current_thread()
            self._readers[me] -= 1
            if self._readers[me] <= 0:
                del self._readers[me]
            if not self._readers:
                self._cond.notify_all()

    def _reading(self) -> bool:
        for thread in [t for t in self._readers if not t.is_alive()]:
            del self._readers[thread]
        return bool(self._readers)

    @contextmanager
    def writing(self, timeout: float = WRITE_WAIT_S):
        deadline = time.monotonic() + timeout
        with self._cond:
            self._writers_waiting += 1
            try:
                while (self._writer or self._reading()) and time.monotonic() < deadline:
                    self._cond.wait(0.2)  # (re-checks for readers whose thread has ended)
                free = not (self._writer or self._reading())
            finally:
                self._writers_waiting -= 1
            if not free:
                self._cond.notify_all()
                raise StoreBusyError(
                    "the dashboard is busy reading the data; try again in a moment"
                )
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


STORE_LOCK = ReadWriteLock()


def write(db_path: str | Path, user: User, work: Callable[[Store], T]) -> T:
    """Run `work(store)` on the store opened read-write, as `user` (whom the audit trail names),
    and close it. `work` makes its own transaction; raises StoreBusyError when another process
    holds the file."""
    with STORE_LOCK.writing():
        try:
            store = Store.open(db_path)
        except StoreBusyError as error:
            if "this process" not in str(error):
                raise
            # A read-only connection of a rerun that ended without closing it (a page run on its
            # own) is garbage not yet collected: collect it, and the file is free.
            gc.collect()
            store = Store.open(db_path)
        try:
            store.actor = user.email
            return work(store)
        finally:
            store.close()
