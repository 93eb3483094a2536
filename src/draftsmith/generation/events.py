"""Progress reporting and cancellation helpers shared by the engines."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio

from .errors import GenerationCancelled
from .types import Cancelled, Emit, OutlineSection

T = TypeVar("T")


def _never() -> bool:
    return False


class Progress:
    """Wraps the caller's ``emit`` and ``cancelled`` callables.

    ``emit`` may be sync or async (or None). Every emit first checks
    cancellation, so a cancelled run stops at the next progress point."""

    def __init__(self, emit: Emit | None, cancelled: Cancelled | None) -> None:
        self._emit = emit
        self.cancelled: Cancelled = cancelled or _never

    def check(self) -> None:
        if self.cancelled():
            raise GenerationCancelled()

    async def emit(self, type_: str, data: dict[str, Any]) -> None:
        self.check()
        if self._emit is None:
            return
        res = self._emit(type_, data)
        if inspect.isawaitable(res):
            await res

    async def status(self, stage: str, message: str) -> None:
        await self.emit("status", {"stage": stage, "message": message})

    async def outline(self, title: str, sections: list[OutlineSection]) -> None:
        await self.emit("outline", {"title": title, "sections": [s.to_dict() for s in sections]})

    async def section(
        self,
        index: int,
        heading: str | None,
        markdown: str,
        *,
        kind: str = "section",
        final: bool = True,
    ) -> None:
        await self.emit(
            "section",
            {
                "index": index,
                "heading": heading,
                "kind": kind,
                "markdown": markdown,
                "final": final,
            },
        )


async def run_cancellable(
    fn: Callable[[], Awaitable[T]], cancelled: Cancelled, poll: float = 0.1
) -> T:
    """Run ``fn()``; if ``cancelled()`` becomes true meanwhile, stop it within
    ``poll`` seconds and raise :class:`GenerationCancelled`.

    Works even while ``fn`` is blocked on the network (e.g. a stream that
    sends nothing), because the watcher cancels the task group."""
    if cancelled():
        raise GenerationCancelled()
    box: dict[str, Any] = {}

    async with anyio.create_task_group() as tg:

        async def watch() -> None:
            while True:
                await anyio.sleep(poll)
                if cancelled():
                    box["cancelled"] = True
                    tg.cancel_scope.cancel()
                    return

        async def work() -> None:
            try:
                box["result"] = await fn()
            except anyio.get_cancelled_exc_class():
                raise
            except Exception as exc:  # re-raised below, outside the task group
                box["error"] = exc
            tg.cancel_scope.cancel()

        tg.start_soon(watch)
        tg.start_soon(work)
    if "error" in box:
        raise box["error"]
    if "result" in box:
        return box["result"]
    raise GenerationCancelled()
