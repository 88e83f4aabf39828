"""Group commit: the write actions of concurrent requests share one transaction.

On SQLite, writes run one at a time under one lock, and a post's transaction spends a
quarter of its time in BEGIN and COMMIT (appending a dozen pages to the write-ahead log).
Requests that reach the event loop together are written together instead: their actions run
one after another in one transaction, each inside a SAVEPOINT of its own
(:meth:`kith.storage.database.Database.transaction` nests that way). An action that fails
rolls back its own savepoint and answers its own error; the others go on. Every action's
after-commit work, and so its events, waits for the one COMMIT, and each request is answered
only after it: an answer still means "durable", an event still means "committed".

A batch is what arrived while the previous one was being written, at most
:data:`MAX_BATCH` actions. Under light load that is one action, and nothing changes; at
1,000 posts per second it is a handful. The actions run on the event loop's thread (see
:func:`kith.api.deps.call` for why that is right on SQLite) unless a worker thread of this
process holds the write lock, in which case the batch waits for it on the thread pool.

PostgreSQL batches the same way, each batch one transaction on the thread pool (a query
there waits on the network): writers run one at a time there too (the event log's advisory
lock, see docs/architecture.md), and a transaction per action made every post queue for the
lock, each holding it for its own round trips and COMMIT. A batch takes the lock once, hops
to a thread once, writes its events in one statement and commits once; a batch of one runs
in its own transaction, without a savepoint.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar, cast

from starlette.concurrency import run_in_threadpool

from kith.app import App

P = ParamSpec("P")
R = TypeVar("R")

MAX_BATCH = 32


@dataclass
class _Item:
    action: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    future: asyncio.Future[Any]
    result: Any = None
    error: BaseException | None = None


@dataclass
class GroupCommit:
    """The batches of one server process (one event loop)."""

    app: App
    _pending: list[_Item] = field(default_factory=list)
    _drainer: asyncio.Task[None] | None = None

    async def run(self, action: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Run the write action ``action(*args, **kwargs)``, with others if others are waiting."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.append(_Item(action, args, kwargs, future))
        if self._drainer is None:
            self._drainer = asyncio.get_running_loop().create_task(self._drain())
        return cast(R, await future)

    async def _drain(self) -> None:
        batch: list[_Item] = []
        try:
            while self._pending:
                await asyncio.sleep(0)  # requests parsed in this turn of the loop join the batch
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                if not self.app.db.is_sqlite or self.app.db.writer_busy():
                    await run_in_threadpool(self._write, batch)
                else:
                    self._write(batch)
                for item in batch:
                    _settle(item)
        finally:
            self._drainer = None
            for item in batch:  # only when interrupted (the server is shutting down)
                if not item.future.done():
                    item.future.cancel()

    def _write(self, batch: list[_Item]) -> None:
        if len(batch) == 1 and not self.app.db.is_sqlite:
            # Alone: its own transaction, without a savepoint (SQLAlchemy builds each anew).
            item = batch[0]
            try:
                item.result = item.action(*item.args, **item.kwargs)
            except Exception as exc:
                item.error = exc
            return
        try:
            with self.app.db.transaction():
                for item in batch:
                    try:
                        item.result = item.action(*item.args, **item.kwargs)
                    except Exception as exc:  # its savepoint is rolled back; the others go on
                        item.error = exc
        except Exception as exc:  # the commit itself failed: nothing of the batch is written
            for item in batch:
                item.error = item.error or exc


def _settle(item: _Item) -> None:
    if item.future.done():  # the request was cancelled (the client went away)
        return
    if item.error is not None:
        item.future.set_exception(item.error)
    else:
        item.future.set_result(item.result)
