"""Who acts: an API token, a mediator in the bot, or the system itself, and which cohorts they reach.

Front ends build one ``Actor`` per request or update (the API from the bearer token, the bot from
the cohorts a learner mediates) and the scheduler and command line use a constant; services read
scope checks and the audit record from it, so who did what is written the same way everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.db.models import TokenRole, User, cohort_mediators
from learntogether.services.errors import DomainError, NotAllowed, NotFound


@dataclass(frozen=True)
class Actor:
    """One caller: how the audit log names them, their role and the cohorts they reach."""

    name: str
    """As the audit log names them: ``token:<name>``, ``user:<id>``, ``scheduler:nudge``, ``cli``."""
    role: TokenRole = TokenRole.ADMIN
    cohort_ids: frozenset[int] | None = None
    """The cohorts within reach: None for every one (admins, viewers' reading, the system)."""
    token_id: int | None = None
    user_id: int | None = None

    @classmethod
    def system(cls, name: str) -> Actor:
        """The platform itself (scheduler, command line): every cohort, no token."""
        return cls(name=name)

    @classmethod
    def token(
        cls, *, token_id: int, name: str, role: TokenRole, cohort_ids: frozenset[int]
    ) -> Actor:
        """An API token; only a mediator's is narrowed to the cohorts it was made for."""
        return cls(
            name=f"token:{name}",
            role=role,
            cohort_ids=cohort_ids if role is TokenRole.MEDIATOR else None,
            token_id=token_id,
        )

    @classmethod
    def mediator(cls, user_id: int, cohort_ids: frozenset[int]) -> Actor:
        """A learner who mediates these cohorts in the bot."""
        return cls(
            name=f"user:{user_id}",
            role=TokenRole.MEDIATOR,
            cohort_ids=cohort_ids,
            user_id=user_id,
        )

    @property
    def is_admin(self) -> bool:
        return self.role is TokenRole.ADMIN

    def allows(self, cohort_id: int) -> bool:
        """The cohort is within reach (for reading; ``check_manages`` guards changes too)."""
        return self.cohort_ids is None or cohort_id in self.cohort_ids

    def out_of_reach(self, *, missing: str, not_yours: str) -> DomainError:
        """The error for something missing or beyond reach: the same for both to a mediator,
        so answers never tell which other cohorts' codes or objects exist."""
        return NotFound(missing) if self.cohort_ids is None else NotAllowed(not_yours)

    def check_role(self, *roles: TokenRole) -> None:
        """Admins and the roles named may go on; anyone else is refused (NotAllowed)."""
        allowed = {TokenRole.ADMIN, *roles}
        if self.role not in allowed:
            names = ", ".join(sorted(role.value for role in allowed))
            raise NotAllowed(f"This needs a token with role {names}; yours is {self.role.value}.")

    def check_manages(self) -> None:
        """Cohort work (members, workshops, messages) is for admins and mediators only."""
        if self.role is TokenRole.VIEWER:
            raise NotAllowed("Viewers read reports only.")


SYSTEM = Actor.system("system")
"""Every cohort: for reads the platform makes itself (a goal's progress, a chart)."""


async def mediator_actor(session: AsyncSession, learner: User) -> Actor:
    """A learner in the bot, reaching the cohorts an admin made them mediator of (maybe none)."""
    ids = await session.scalars(
        select(cohort_mediators.c.cohort_id).where(cohort_mediators.c.user_id == learner.id)
    )
    return Actor.mediator(learner.id, frozenset(ids))
