"""A small pool of reusable extraction worker processes with per-task limits.

Why not one process per file: starting an interpreter and importing pypdfium2
costs ~50-100 ms, more than extracting a typical PDF.  Workers are started
with ``subprocess`` (a fresh interpreter: no fork of a threaded server, no
re-import of the caller's ``__main__``) and reused; each task gets a
wall-clock limit (the worker is SIGKILLed and replaced when it is exceeded)
and an RLIMIT_AS budget set inside the worker.  Results travel as one pickled
tuple (Markdown once, section offsets only).
"""

from __future__ import annotations

import atexit
import os
import pickle
import subprocess
import sys
import threading
from collections.abc import Iterable
from multiprocessing.connection import Connection
from pathlib import Path

from ._base import Extraction, ExtractionError


def _unavailable(message: str) -> ExtractionError:
    from . import ExtractorUnavailable

    return ExtractorUnavailable(message)


MAX_TASKS_PER_WORKER = 500
MAX_IDLE_RSS = 768 * 1024 * 1024  # recycle a worker whose memory grew past this
STARTUP_TIMEOUT_S = 60.0

TIMEOUT_MESSAGE = (
    "Processing this file took too long (over {limit:g} seconds); "
    "it may be damaged or unusually complex."
)
MEMORY_MESSAGE = (
    "Processing this file needed too much memory; it may be damaged or unusually complex."
)
CRASH_MESSAGE = (
    "The document reader crashed on this file; it may be damaged (or need too much memory)."
)
UNEXPECTED_MESSAGE = (
    "This file could not be read because of an internal error in the document reader."
)

# the directory that contains the ``draftsmith`` package (src/ in a checkout)
_PKG_ROOT = str(Path(__file__).resolve().parents[3])


class _Worker:
    def __init__(self, allowed_ops: frozenset[str] = frozenset()) -> None:
        c_read, p_write = os.pipe()  # parent -> child
        p_read, c_write = os.pipe()  # child -> parent
        env = dict(os.environ)
        pp = env.get("PYTHONPATH", "")
        if _PKG_ROOT not in pp.split(os.pathsep):
            env["PYTHONPATH"] = _PKG_ROOT + (os.pathsep + pp if pp else "")
        try:
            self.proc = subprocess.Popen(
                # -P: never put the working directory on sys.path (a cwd holding
                # e.g. an ``html.py`` would shadow the standard library)
                [
                    sys.executable,
                    *(["-P"] if sys.version_info >= (3, 11) else []),
                    "-m",
                    "draftsmith.documents.extract._worker",
                    str(c_read),
                    str(c_write),
                ],
                pass_fds=(c_read, c_write),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                env=env,
                close_fds=True,
            )
        except BaseException:
            os.close(p_write)
            os.close(p_read)
            raise
        finally:
            os.close(c_read)
            os.close(c_write)
        self.send = Connection(p_write, readable=False)
        self.recv = Connection(p_read, writable=False)
        # the worker's setup: reference operations it may run, and where to import them from
        parent_path = [p for p in sys.path if p and os.path.isabs(p)]
        try:
            self.send.send_bytes(pickle.dumps((sorted(allowed_ops), parent_path)))
        except OSError:
            pass  # the worker already exited: wait_ready reports it
        self.tasks = 0
        self.ready = False
        self.pid = self.proc.pid

    def wait_ready(self, timeout: float) -> None:
        if self.ready:
            return
        if not self.recv.poll(timeout):
            self.kill()
            raise _unavailable(
                "The document reader could not be started (it took too long); try again later."
            )
        try:
            msg = pickle.loads(self.recv.recv_bytes())
        except (EOFError, OSError):
            self.kill()
            raise _unavailable(
                "The document reader could not be started; try again later."
            ) from None
        if msg[0] != "ready":  # pragma: no cover - protocol error
            self.kill()
            raise _unavailable("The document reader could not be started; try again later.")
        self.ready = True

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        try:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait(timeout=10)
        except Exception:  # pragma: no cover
            pass
        self._close_pipes()

    def close(self) -> None:
        """Graceful: closing its input makes the worker exit."""
        self._close_pipes()
        try:
            self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.kill()

    def _close_pipes(self) -> None:
        for c in (self.send, self.recv):
            try:
                c.close()
            except Exception:  # pragma: no cover
                pass


class WorkerPool:
    """Workers that run the built-in extraction operations, plus the ``"module:function"``
    references in ``allowed_ops`` (none in production: tests allow their own)."""

    def __init__(self, max_workers: int | None = None, allowed_ops: Iterable[str] = ()) -> None:
        if not max_workers:
            max_workers = max(os.cpu_count() or 1, 1)
        self.max_workers = max_workers
        self.allowed_ops = frozenset(allowed_ops)
        self._sem = threading.BoundedSemaphore(max_workers)
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []
        self._all: set[_Worker] = set()
        self._pid = os.getpid()

    # -- lifecycle ---------------------------------------------------------------
    def _new_worker(self) -> _Worker:
        w = _Worker(self.allowed_ops)
        with self._lock:
            self._all.add(w)
        return w

    def _discard(self, w: _Worker, *, kill: bool) -> None:
        with self._lock:
            self._all.discard(w)
        if kill:
            w.kill()
        else:
            w.close()

    def warm_up(self, n: int = 1) -> None:
        n = min(n, self.max_workers)
        with self._lock:
            missing = n - len(self._all)
        started = [self._new_worker() for _ in range(max(missing, 0))]
        for w in started:
            try:
                w.wait_ready(STARTUP_TIMEOUT_S)
            except ExtractionError:
                self._discard(w, kill=True)
                continue
            with self._lock:
                self._idle.append(w)

    def shutdown(self) -> None:
        with self._lock:
            workers = list(self._all)
            self._all.clear()
            self._idle.clear()
        for w in workers:
            w.close()

    def _acquire(self) -> _Worker:
        self._sem.acquire()
        try:
            with self._lock:
                while self._idle:
                    w = self._idle.pop()
                    if w.alive():
                        return w
                    self._all.discard(w)
                    w._close_pipes()
            try:
                return self._new_worker()
            except OSError as exc:
                raise _unavailable(
                    "The document reader could not be started; try again later."
                ) from exc
        except BaseException:
            self._sem.release()
            raise

    def _release(self, w: _Worker, *, reusable: bool) -> None:
        try:
            if reusable and w.alive() and w.tasks < MAX_TASKS_PER_WORKER:
                with self._lock:
                    self._idle.append(w)
            else:
                self._discard(w, kill=not reusable)
        finally:
            self._sem.release()

    # -- running -----------------------------------------------------------------------
    def run(self, op: str, args: tuple, *, timeout_s: float, memory_mb: int | None):
        w = self._acquire()
        reusable = False
        try:
            w.wait_ready(STARTUP_TIMEOUT_S)
            w.tasks += 1
            w.send.send_bytes(
                pickle.dumps((op, args, memory_mb, timeout_s), protocol=pickle.HIGHEST_PROTOCOL)
            )
            if not w.recv.poll(timeout_s):
                raise ExtractionError(TIMEOUT_MESSAGE.format(limit=timeout_s))
            try:
                status, value, recycle, rss = pickle.loads(w.recv.recv_bytes())
            except (EOFError, OSError):
                raise ExtractionError(CRASH_MESSAGE) from None
            reusable = not recycle and (rss is None or rss < MAX_IDLE_RSS)
            if status == "ok":
                return value
            if status == "memory":
                raise ExtractionError(MEMORY_MESSAGE)
            if status == "unexpected":
                raise ExtractionError(UNEXPECTED_MESSAGE)
            raise ExtractionError(*value) if isinstance(value, tuple) else ExtractionError(value)
        except (BrokenPipeError, ConnectionResetError):
            reusable = False
            raise ExtractionError(CRASH_MESSAGE) from None
        finally:
            # Not reusable (timed out, crashed, interrupted, asked to be
            # recycled): it is killed and a fresh one starts on demand.
            self._release(w, reusable=reusable)


_pool: WorkerPool | None = None
_pool_lock = threading.Lock()
_config: dict = {"max_workers": None, "allowed_ops": ()}


def configure(*, max_workers: int | None = None, allowed_ops: Iterable[str] = ()) -> None:
    """Set pool options (from the app's settings); replaces an existing pool.

    ``allowed_ops``: ``"module:function"`` operations the workers may run besides
    the built-in ones (for tests; the app allows none)."""
    global _pool
    with _pool_lock:
        _config.update(max_workers=max_workers, allowed_ops=tuple(allowed_ops))
        old, _pool = _pool, None
    if old is not None and old._pid == os.getpid():
        old.shutdown()


def pool() -> WorkerPool:
    global _pool
    with _pool_lock:
        if _pool is None or _pool._pid != os.getpid():
            _pool = WorkerPool(_config["max_workers"], _config["allowed_ops"])
        return _pool


def _reset_after_fork() -> None:  # the child of a fork must not share workers
    global _pool, _pool_lock
    _pool = None
    _pool_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


@atexit.register
def _shutdown_at_exit() -> None:
    if _pool is not None and _pool._pid == os.getpid():
        _pool.shutdown()


def run_isolated(op: str, args: tuple, *, timeout_s: float = 120, memory_mb: int | None = 1024):
    value = pool().run(op, args, timeout_s=timeout_s, memory_mb=memory_mb)
    if op == "extract":
        return Extraction.from_wire(value)
    return value
