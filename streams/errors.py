"""Errors of streams: each carries a message a person can act on (same shape as the domain
apps' errors: message and field), so views and the API show them the same way."""

from __future__ import annotations


class StreamsError(Exception):
    """A streams operation refused for a reason a person can act on."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class WorkError(StreamsError):
    """A task or ticket change refused (bad input or a state that does not allow it)."""


class WorkForbidden(WorkError):
    """The user's role (or being a customer) does not allow this task or ticket action."""


class WorkConflict(WorkError):
    """The task's or ticket's state does not allow it now (already done, already closed)."""


# --- milestones ------------------------------------------------------------------------------

class MilestoneError(StreamsError):
    """A milestone change refused: bad input, a subject that takes no milestones, a state
    that does not allow the change."""


class MilestoneTransitionRefused(MilestoneError):
    """The milestone's state (or its dependencies) does not allow `action` now. `allowed`
    names the transitions this user may run on it instead; `state` is its status value."""

    def __init__(self, message: str, *, action: str, state: str, allowed: list[str]):
        super().__init__(message)
        self.action = action
        self.state = state
        self.allowed = allowed


class MilestoneTransitionForbidden(MilestoneTransitionRefused):
    """The transition is possible but the user's role does not allow it."""


class MilestoneCycle(MilestoneError):
    """Dependencies that would make a milestone wait for itself; `cycle` lists the names
    along the loop (first == last)."""

    def __init__(self, message: str, *, cycle: list[str]):
        super().__init__(message, field="depends_on")
        self.cycle = cycle


class MilestoneBillingRefused(MilestoneError):
    """Completing a billing milestone was refused by the app that bills it (its message,
    e.g. the order is already fully invoiced, the shop's legal identity is incomplete)."""


# --- social: follows, notifications, comments ------------------------------------------------

class SocialError(StreamsError):
    """A follow, notification or comment change refused (bad input, a deleted comment)."""


class SocialNotFound(SocialError):
    """What was asked for is not in this shop, not a kind that can be followed or commented
    on, or not this user's (another's notification): pages answer 404."""


class SocialForbidden(SocialError):
    """The user's role does not allow it (seeing the subject, editing another's comment)."""
