"""Texts the bot builds from data (role names, the privacy notice), always through gettext."""

from __future__ import annotations

from aiogram import html
from aiogram.utils.i18n import gettext as _

from learntogether.db.models import Role
from learntogether.services.places import clean_place


def role_label(role: Role) -> str:
    labels = {
        Role.TEACHER: _("Teacher"),
        Role.SCHOOL_STAFF: _("School staff"),
        Role.MEDIATOR: _("Mediator"),
        Role.PARENT: _("Parent"),
        Role.PRINCIPAL: _("School principal"),
        Role.OFFICIAL: _("Official"),
        Role.NGO_WORKER: _("NGO worker"),
        Role.COMMUNITY_LEADER: _("Community leader"),
    }
    return labels[role]


def saved_place_notice(typed: str | None, stored: str | None) -> str | None:
    """When a typed municipality was stored as the known spelling of the same place, say so."""
    if stored is None or stored == clean_place(typed):
        return None
    return _("Saved as {place}.").format(place=html.quote(stored))


def privacy_notice() -> str:
    """The notice, paragraph by paragraph (each translated whole)."""
    return (
        _notice_body()
        + "\n\n"
        + _(
            "If you ask your mediator something here, the mediators of your group see your message "
            "and their answers; the conversation is part of /mydata, and /delete erases it."
        )
        + "\n\n"
        + _(
            "If you answer a question by voice, your voice note is kept like a written answer: "
            "only the mediators of your groups and the programme team can listen to it, and "
            "/delete erases it. If you record a lesson as a mediator, the programme team listens "
            "to your recording; once approved, every learner of that lesson hears it and your "
            "name is given as its speaker. /delete withdraws the recordings not yet approved; "
            "approved ones stay in the lesson without your name."
        )
    )


def _notice_body() -> str:
    return _(
        "<b>Your privacy</b>\n\n"
        "To Learn Together keeps only what your lessons need: your Telegram account and first name, "
        "your language and role, the municipality if you give it, your progress and answers, and "
        "your reminder settings. We never ask about or record ethnicity.\n\n"
        "The mediator of your group and the programme team see your progress; reports to funders "
        "contain only counts. What you write to open questions (your reflections) is read only by "
        "the mediators of your groups and the programme team. You can see your data with /mydata "
        "and erase it with /delete at any time."
    )
