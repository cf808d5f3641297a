"""Conversation state (aiogram's FSM) in Redis, carried through a Redis outage by the process.

Every conversation this process reads or writes is also kept here (the newest ``remembered``).
While Redis cannot be reached the conversations go on from that copy, with one warning, and
Redis is tried again every few seconds. When it answers, what changed meanwhile is written back
(it is newer than anything Redis holds) and Redis is the truth again. If Redis came back empty
(restarted without persistence, or flushed: the marker key is gone), every conversation kept
here is written back too, wherever Redis has none.

The trade-off, against a database table: each process knows only the conversations it handled.
One bot process (polling, or ``learntogether run``) loses nothing. With several webhook workers a
learner whose previous step another worker handled is asked, during an outage, to send /start
again, as without this copy. A table would cover that, but would also store a person's choices
before they agreed to the privacy notice, which the bot promises not to do.
"""

from __future__ import annotations

import asyncio
import copy
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from aiogram.exceptions import DataNotDictLikeError
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey
from aiogram.fsm.storage.redis import RedisStorage
from redis.asyncio import Redis

from learntogether.redisfallback import REDIS_ERRORS, RedisOutage, connect

# Present while Redis keeps what was written to it; absent after it lost its data.
MARKER_KEY = "lt:fsm:kept"
# The data of the conversation whose state this update read last, read in the same round trip.
_read_ahead: ContextVar[tuple[StorageKey, dict[str, Any]] | None] = ContextVar(
    "read_ahead", default=None
)


@dataclass
class _Conversation:
    state: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


class RedisStorageWithFallback(BaseStorage):
    def __init__(
        self,
        redis_storage: RedisStorage,
        *,
        remembered: int = 10_000,
        marker_key: str = MARKER_KEY,
    ) -> None:
        self.redis_storage = redis_storage
        self.remembered = remembered
        self.marker_key = marker_key
        self.outage = RedisOutage("conversation state", "kept in this process")
        self._known: OrderedDict[StorageKey, _Conversation] = OrderedDict()
        # Conversations changed while Redis was away: written back when it answers.
        self._changed: set[StorageKey] = set()
        self._syncing = asyncio.Lock()
        self._marked = False

    @classmethod
    def from_url(cls, url: str) -> RedisStorageWithFallback:
        return cls(RedisStorage(connect(url)))

    @property
    def redis(self) -> Redis:
        return self.redis_storage.redis

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        _read_ahead.set(None)
        value = state.state if isinstance(state, State) else state
        self._keep(key, _Conversation(value, self._known_data(key)))
        await self._write(key, lambda: self.redis_storage.set_state(key, value))

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        if not isinstance(data, dict):
            raise DataNotDictLikeError(f"Data must be a dict, got {type(data).__name__}")
        _read_ahead.set(None)
        self._keep(key, _Conversation(self._known_state(key), copy.deepcopy(data)))
        await self._write(key, lambda: self.redis_storage.set_data(key, data))

    async def get_state(self, key: StorageKey) -> str | None:
        """The state, and the data read with it in the same round trip: the update that reads its
        state (aiogram's FSM middleware) asks for its data next (``LocalesMiddleware``)."""
        if await self._redis_usable():
            try:
                state = await self._read_state_and_data(key)
                known = self._known_state(key)
                if state is None and known and await self._restored_after_redis_lost_its_data():
                    state = known
            except REDIS_ERRORS as error:
                self.outage.failed(error)
            else:
                self._keep(key, _Conversation(state, self._known_data(key)))
                return state
        return self._known_state(key)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        if await self._redis_usable():
            try:
                data = self._data_read_ahead(key)
                if data is None:
                    data = await self.redis_storage.get_data(key)
                known_data = self._known_data(key)
                if not data and known_data and await self._restored_after_redis_lost_its_data():
                    data = known_data
            except REDIS_ERRORS as error:
                self.outage.failed(error)
            else:
                self._keep(key, _Conversation(self._known_state(key), copy.deepcopy(data)))
                return data
        return self._known_data(key)

    async def close(self) -> None:
        await self.redis_storage.close()

    async def _read_state_and_data(self, key: StorageKey) -> str | None:
        """The state from Redis; the data read with it is kept for this update's next
        ``get_data`` of the same conversation (and only that one)."""
        builder = self.redis_storage.key_builder
        state, data = await self.redis.mget(builder.build(key, "state"), builder.build(key, "data"))
        if isinstance(data, bytes):
            data = data.decode()
        _read_ahead.set((key, self.redis_storage.json_loads(data) if data is not None else {}))
        return state.decode() if isinstance(state, bytes) else state

    @staticmethod
    def _data_read_ahead(key: StorageKey) -> dict[str, Any] | None:
        read = _read_ahead.get()
        _read_ahead.set(None)
        return read[1] if read is not None and read[0] == key else None

    def _known_state(self, key: StorageKey) -> str | None:
        known = self._known.get(key)
        return known.state if known is not None else None

    def _known_data(self, key: StorageKey) -> dict[str, Any]:
        known = self._known.get(key)
        return copy.deepcopy(known.data) if known is not None else {}

    def _keep(self, key: StorageKey, conversation: _Conversation) -> None:
        if conversation.state is None and not conversation.data:
            self._known.pop(key, None)
            return
        self._known[key] = conversation
        self._known.move_to_end(key)
        if len(self._known) > self.remembered:
            forgotten, _ = self._known.popitem(last=False)
            self._changed.discard(forgotten)

    async def _write(self, key: StorageKey, write: Callable[[], Awaitable[None]]) -> None:
        if await self._redis_usable():
            try:
                await write()
                if not self._marked:
                    await self.redis.set(self.marker_key, 1)
                    self._marked = True
                return
            except REDIS_ERRORS as error:
                self.outage.failed(error)
        self._changed.add(key)

    async def _redis_usable(self) -> bool:
        """True while Redis answers; after an outage, once it answers again and is up to date."""
        if not self.outage.down:
            return True
        if self._syncing.locked() or not self.outage.worth_trying():
            return False
        async with self._syncing:
            try:
                await self._write_back(everything=not await self.redis.exists(self.marker_key))
            except REDIS_ERRORS as error:
                self.outage.failed(error)
                return False
            self.outage.back()
        return True

    async def _restored_after_redis_lost_its_data(self) -> bool:
        """Redis answers but has none of a conversation kept here: another process may have
        ended it, or Redis restarted empty between two updates. Only the marker tells."""
        if await self.redis.exists(self.marker_key):
            return False
        async with self._syncing:
            await self._write_back(everything=True)
        _read_ahead.set(None)  # read before the write-back
        return True

    async def _write_back(self, *, everything: bool) -> None:
        """Write the conversations changed while Redis was away, and with ``everything`` (Redis
        lost its data) every one kept here that Redis has none of."""
        builder, dumps = self.redis_storage.key_builder, self.redis_storage.json_dumps
        if everything:
            kept = [(key, c) for key, c in self._known.items() if key not in self._changed]
            # Round trips of a few hundred conversations: few, and none that blocks the loop long.
            for start in range(0, len(kept), 500):
                async with self.redis.pipeline(transaction=False) as pipe:
                    for key, conversation in kept[start : start + 500]:
                        if conversation.state is not None:
                            pipe.set(builder.build(key, "state"), conversation.state, nx=True)
                        if conversation.data:
                            pipe.set(builder.build(key, "data"), dumps(conversation.data), nx=True)
                    await pipe.execute()
        # A conversation changed again while this runs is written in the next round.
        while self._changed:
            key = next(iter(self._changed))
            known = self._known.get(key, _Conversation())
            await self.redis_storage.set_state(key, known.state)
            await self.redis_storage.set_data(key, copy.deepcopy(known.data))
            if self._known.get(key, _Conversation()) == known:
                self._changed.discard(key)
        await self.redis.set(self.marker_key, 1)
        self._marked = True
