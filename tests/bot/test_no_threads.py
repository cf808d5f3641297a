"""Every filter and handler of the bot is a coroutine: aiogram runs a plain function in a worker
thread (``asyncio.to_thread``) each time it is checked, and a press is checked against dozens of
handlers, so one synchronous filter costs a thread hop per handler per update."""

from __future__ import annotations

from collections.abc import Iterator

from aiogram import Router
from aiogram.dispatcher.event.handler import CallableObject

from bot.app import create_dispatcher
from learntogether.config import Settings
from learntogether.i18n import create_i18n


def _routers(router: Router) -> Iterator[Router]:
    yield router
    for child in router.sub_routers:
        yield from _routers(child)


def test_every_filter_and_handler_is_awaited_in_the_event_loop() -> None:
    from sqlalchemy.ext.asyncio import async_sessionmaker

    settings = Settings(telegram_token="1:x", database_url="sqlite+aiosqlite:///:memory:")
    dispatcher = create_dispatcher(settings, session_maker=async_sessionmaker(), i18n=create_i18n())
    threaded: list[str] = []
    checked = 0
    for router in _routers(dispatcher):
        for name, observer in router.observers.items():
            for handler in observer.handlers:
                callables: list[CallableObject] = [handler, *(handler.filters or [])]
                if handler is observer.handlers[0]:
                    callables.extend(observer._handler.filters or [])
                for item in callables:
                    checked += 1
                    if not item.awaitable:
                        threaded.append(f"{router.name}.{name}: {item.callback!r}"[:160])
    assert checked > 100
    assert threaded == [], "\n".join(threaded)
