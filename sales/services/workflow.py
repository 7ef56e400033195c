"""Running a document's state transitions the same way everywhere: check the source state,
then the user's role, change state, save (the ConcurrentTransitionMixin refuses a row another
transaction moved meanwhile). The transition's one event on the timeline is written by streams
(its post_transition receiver); the service only says who acts and what to say about it.

`by=None` is the system (a periodic task, a payment webhook, the customer through their
signed link): no role is checked, the caller has checked what applies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _
from django_fsm import can_proceed, has_transition_perm

from sales.errors import IllegalTransition, TransitionForbidden
from sales.models import Order, Quote
from streams.events import acting

if TYPE_CHECKING:
    from tenants.accounts.models import User

# What each transition is called on buttons, and how it is styled (UI.md: the usual next step
# is primary, destructive ones ask for a confirmation and a reason).
ORDER_ACTIONS = {
    "confirm": (_("Confirm order"), "primary"),
    "start_processing": (_("Start preparing"), "primary"),
    "ship": (_("Mark shipped"), "primary"),
    "deliver": (_("Mark delivered"), "primary"),
    "cancel": (_("Cancel order"), "danger"),
}
QUOTE_ACTIONS = {
    "send": (_("Send quote"), "primary"),
    "convert": (_("Convert to order"), "primary"),
    "accept": (_("Record acceptance"), "secondary"),
    "decline": (_("Record refusal"), "secondary"),
    "cancel": (_("Cancel quote"), "danger"),
}
# Transitions without a button of their own: how refusals name them.
INTERNAL_LABELS = {"supersede": _("Revise"), "expire": _("Expire")}
# Transitions a staff member may run on behalf of the customer (recorded acceptance by phone
# or on paper): they need the right to change quotes.
STAFF_QUOTE_PERMISSIONS = {"accept": "sales.change_quote", "decline": "sales.change_quote"}


def _actions_for(document) -> dict:
    return ORDER_ACTIONS if isinstance(document, Order) else QUOTE_ACTIONS


def _label(document) -> str:
    return document.number if isinstance(document, Order) else document.reference


def allowed_actions(document, user: User | None) -> list[str]:
    """Transitions possible now, for this user, in button order."""
    actions = _actions_for(document)
    names = []
    for transition in document.get_available_status_transitions():
        if transition.name not in actions:
            continue  # internal transitions (expire, supersede) have no button
        if user is not None and not _user_may(document, transition.name, user):
            continue
        names.append(transition.name)
    return [name for name in actions if name in names]


def _user_may(document, action: str, user: User) -> bool:
    if isinstance(document, Quote) and action in STAFF_QUOTE_PERMISSIONS:
        return user.has_perm(STAFF_QUOTE_PERMISSIONS[action])
    return has_transition_perm(getattr(document, action), user)


def transition_check(document, action: str, *, by: User | None,
                     by_customer: bool = False) -> str:
    """Raise IllegalTransition (wrong state) or TransitionForbidden (wrong role) unless
    `action` may run now; returns its label."""
    method = getattr(document, action, None)
    label = str(_actions_for(document).get(action, (INTERNAL_LABELS.get(action, action),))[0])
    if method is None or not hasattr(method, "_django_fsm") or not can_proceed(method):
        raise IllegalTransition(document=_label(document), action=label,
                                state=document.get_status_display().lower(),
                                allowed=allowed_actions(document, by))
    if by is not None and not by_customer and not _user_may(document, action, by):
        raise TransitionForbidden(
            document=_label(document), action=label, state=document.get_status_display().lower(),
            allowed=allowed_actions(document, by),
            reason=str(_("Your role does not allow “%(action)s”.")) % {"action": label})
    return label


def transition_run(document, action: str, *, by: User | None, by_customer: bool = False,
                   message: str = "", data: dict | None = None, check_role: bool = True,
                   **kwargs) -> str:
    """Run `action` on a locked document and save it; its event (who, `message`, `data`) is
    recorded by streams as the transition happens. Returns the state it left.
    `check_role=False`: part of an action `by` may run (converting the quote they record as
    accepted): the state is checked, not the role."""
    transition_check(document, action, by=by if check_role else None, by_customer=by_customer)
    before = document.status
    with acting(by, customer=by_customer, message=message, data=data):
        getattr(document, action)(**kwargs)
    document.save()
    return before
