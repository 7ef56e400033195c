class TenantsError(Exception):
    """A platform operation refused for a reason a person can act on."""


class SignupError(TenantsError):
    """Signup refused; `field` names the form field the message belongs to (None: whole form)."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field
        self.message = message


class ProvisioningError(TenantsError):
    """Creating a shop's schema failed; nothing of it was left behind."""


class PlanLimitReached(TenantsError):
    """The shop's plan does not allow this (e.g. one more staff seat)."""
