"""Extraction worker process: ``python -m draftsmith.documents.extract._worker RFD WFD``.

Reads length-prefixed pickled requests from fd RFD and answers on fd WFD,
one task at a time, until the parent closes the pipe.  Each task runs under
RLIMIT_AS (baseline + the task's memory budget) and a CPU-time backstop; the
parent enforces the wall-clock limit by killing this process.

An operation is one of :data:`OPS` by name, or a ``"package.module:function"``
reference that the parent's pool allows (sent once, before the first task):
how tests run their own operations without shipping them here.
"""

from __future__ import annotations

import importlib
import os
import pickle
import signal
import sys
import time
import traceback

_MB = 1024 * 1024


def _vms_bytes() -> int | None:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def _rss_bytes() -> int | None:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


class _Limits:
    def __init__(self) -> None:
        try:
            import resource
        except ImportError:  # pragma: no cover - non-Unix
            resource = None
        self.resource = resource
        if resource is not None:
            self.as_hard = resource.getrlimit(resource.RLIMIT_AS)[1]
            self.as_soft0 = resource.getrlimit(resource.RLIMIT_AS)[0]
            self.cpu_hard = resource.getrlimit(resource.RLIMIT_CPU)[1]

    def apply(self, memory_mb: int | None, timeout_s: float | None) -> None:
        r = self.resource
        if r is None:
            return
        if memory_mb:
            base = _vms_bytes()
            if base is not None:
                soft = base + int(memory_mb) * _MB
                if self.as_hard != r.RLIM_INFINITY:
                    soft = min(soft, self.as_hard)
                try:
                    r.setrlimit(r.RLIMIT_AS, (soft, self.as_hard))
                except (ValueError, OSError):
                    pass
        if timeout_s:
            # Backstop only (the parent kills us at the wall-clock limit): if
            # the parent vanished, a runaway task still dies of SIGXCPU.
            used = time.process_time()
            soft = int(used + 2 * timeout_s + 5)
            if self.cpu_hard != r.RLIM_INFINITY:
                soft = min(soft, self.cpu_hard)
            try:
                r.setrlimit(r.RLIMIT_CPU, (soft, self.cpu_hard))
            except (ValueError, OSError):
                pass

    def clear(self) -> None:
        r = self.resource
        if r is None:
            return
        try:
            r.setrlimit(r.RLIMIT_AS, (self.as_soft0, self.as_hard))
        except (ValueError, OSError):
            pass


# --- operations -------------------------------------------------------------------------


def _op_extract(path: str, kind: str, encoding: str | None):
    from draftsmith.documents.extract import _extract_guarded

    return _extract_guarded(path, kind, encoding).to_wire()


def _op_pdf_half(path: str, half: int):
    from draftsmith.documents.extract.pdf import read_pdf_half

    try:
        return read_pdf_half(path, half)
    except Exception:  # the whole-file extraction that follows gives the user's message
        return None


OPS = {"extract": _op_extract, "pdf_half": _op_pdf_half}


def _operation(op: str, allowed: frozenset[str]):
    """The function for ``op``: a built-in, or an allowed reference; None otherwise."""
    if op in OPS:
        return OPS[op]
    if op not in allowed:
        return None
    module, _, name = op.partition(":")
    return getattr(importlib.import_module(module), name)


def _run(op: str, args: tuple, allowed: frozenset[str]):
    from draftsmith.documents.extract import ExtractionError

    try:
        fn = _operation(op, allowed)
        if fn is None:
            return ("error", "Internal error: unknown worker operation.", False)
        return ("ok", fn(*args), False)
    except MemoryError:
        return ("memory", None, True)
    except ExtractionError as exc:
        # pdfminer/lxml may turn an allocation failure into their own errors,
        # but a MemoryError is what RLIMIT_AS produces in Python code.
        return ("error", (str(exc), exc.code), False)
    except RecursionError:
        return ("error", "This document is too deeply nested to be processed.", True)
    except BaseException as exc:  # noqa: BLE001 - must answer, whatever happened
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        traceback.print_exc(file=sys.stderr)
        return ("unexpected", f"{type(exc).__name__}: {exc}"[:500], True)


def main(rfd: int, wfd: int) -> None:
    from multiprocessing.connection import Connection

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    # No PR_SET_PDEATHSIG here: it fires when the *thread* that started us
    # exits, and callers use thread pools.  Parent death closes our input
    # pipe (EOF -> exit); a task stuck in C code is bounded by RLIMIT_CPU.
    conn_in = Connection(rfd, writable=False)
    conn_out = Connection(wfd, readable=False)
    try:
        allowed, parent_path = pickle.loads(conn_in.recv_bytes())
    except (EOFError, OSError):
        return
    # Appended: reference operations import as in the parent, never shadowing the stdlib.
    sys.path.extend(p for p in parent_path if p not in sys.path)
    allowed = frozenset(allowed)
    # Preload what nearly every task needs, before the first request.
    import pypdfium2  # noqa: F401

    import draftsmith.documents.extract  # noqa: F401
    import draftsmith.documents.extract.pdf  # noqa: F401

    limits = _Limits()
    conn_out.send_bytes(pickle.dumps(("ready", os.getpid(), False)))
    while True:
        try:
            data = conn_in.recv_bytes()
        except (EOFError, OSError):
            return
        op, args, memory_mb, timeout_s = pickle.loads(data)
        limits.apply(memory_mb, timeout_s)
        try:
            result = _run(op, args, allowed)
        finally:
            limits.clear()
        try:
            payload = pickle.dumps(result + (_rss_bytes(),), protocol=pickle.HIGHEST_PROTOCOL)
        except MemoryError:
            payload = pickle.dumps(("memory", None, True, None))
        try:
            conn_out.send_bytes(payload)
        except (BrokenPipeError, OSError):
            return
        if result[2]:  # recycle: heap may be fragmented / state suspect
            return


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
