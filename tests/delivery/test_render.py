"""What a recipient reads of a mediator's broadcast: who wrote it, when there is room."""

from __future__ import annotations

from learntogether.db.models import BroadcastKind
from learntogether.delivery.render import Renderer
from learntogether.i18n import Locales, create_i18n
from learntogether.services.outbox import Claimed
from tests.delivery.conftest import recipient


def _claimed(sender: str | None) -> Claimed:
    return Claimed(
        id=1,
        broadcast_id=1,
        kind=BroadcastKind.BROADCAST,
        text={"en": "x"},
        attempts=1,
        learner=recipient(locale="bg"),
        sender=sender,
    )


def test_a_mediators_broadcast_names_them_in_the_learners_language_escaped() -> None:
    renderer = Renderer(create_i18n(), default_locale="en")
    signed = renderer._signed("Среща утре", _claimed("Petar <P>"), Locales(content=("bg", "en")))
    assert signed == "<i>От вашия медиатор Petar &lt;P&gt;:</i>\n\nСреща утре"


def test_the_programmes_broadcast_and_one_too_long_for_the_line_go_as_written() -> None:
    renderer = Renderer(create_i18n(), default_locale="en")
    locales = Locales(content=("en",))
    assert renderer._signed("Hello", _claimed(None), locales) == "Hello"
    long = "a" * 4090
    assert renderer._signed(long, _claimed("Petar"), locales) == long
