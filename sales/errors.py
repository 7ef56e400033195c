"""Errors of the sales pipeline: each carries a message a person can act on."""

from __future__ import annotations

from django.utils.translation import gettext as _


class SalesError(Exception):
    """A sales operation refused for a reason a person can act on."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class IllegalTransition(SalesError):
    """The document is not in a state (or the user has not the role) for this transition.
    `allowed` names the transitions that are possible now, for this user."""

    def __init__(self, *, document: str, action: str, state: str, allowed: list[str],
                 reason: str = ""):
        self.document = document
        self.action = action
        self.state = state
        self.allowed = allowed
        message = reason or _("%(document)s is %(state)s: “%(action)s” is not possible now.") % {
            "document": document, "state": state, "action": action}
        super().__init__(message)


class TransitionForbidden(IllegalTransition):
    """The transition exists from this state but the user's role does not allow it."""


class QuoteLinkInvalid(SalesError):
    """A customer's quote link that is tampered with, expired or superseded. `reason` is one
    of "invalid", "superseded", "expired", "closed"."""

    def __init__(self, message: str, *, reason: str):
        super().__init__(message)
        self.reason = reason
