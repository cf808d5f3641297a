"""Filters shared by the feature routers."""

from __future__ import annotations

from learntogether.db.models import User
from learntogether.services import learners


def registered(_event: object, learner: User | None = None) -> bool:
    """The person agreed to the current privacy notice; features need that."""
    return learners.has_consented(learner)
