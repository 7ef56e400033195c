"""Reads of milestones shared by the dashboard, its template tag and the API: a subject's
milestones with everything their rows print, the transitions a user may run, the billing
schedule's cumulative shares, the progress and budget totals.

A subject's page runs a constant number of queries whatever its number of milestones: the
rows, their dependencies (one prefetch) and, for a billing subject, the invoices they billed
(one query on the events). The transitions allowed per row are worked out from the prefetched
dependencies, never by django-fsm's conditions (one query per row).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Model, Prefetch, QuerySet
from django_fsm import Transition

from streams.models import Event, Milestone, MilestoneStatus
from streams.subjects import content_type_id, subject_url, tracked

if TYPE_CHECKING:
    from tenants.accounts.models import User

ZERO = Decimal("0")
HUNDRED = Decimal("100")
RUN_PERMISSION = "streams.run_milestone"
# Kinds of subject that take milestones, by model label: streams knows them only as tracked
# subjects (the domain app registers them), never by import.
MILESTONE_SUBJECTS = ("catalog.project", "sales.order")
# Kinds of subject a completed milestone bills a share of (the app that owns them listens to
# streams.signals.milestone_completed).
BILLING_SUBJECTS = ("sales.order",)
# Transitions in button order (the usual next step first, the destructive one last).
ACTION_ORDER = ("start", "complete", "delay", "cancel")
# A cancelled dependency no longer holds anything up (as the model's condition says).
DONE_STATES = (MilestoneStatus.COMPLETED, MilestoneStatus.CANCELLED)


def _transitions() -> dict[tuple[str, str], Transition]:
    status = Milestone._meta.get_field("status")
    return {(t.source, t.name): t for t in status.get_all_transitions(Milestone)}


_TRANSITIONS = _transitions()


# ---------------------------------------------------------------------------------------------
# Subjects
# ---------------------------------------------------------------------------------------------
def subject_model(kind: str) -> type[Model] | None:
    """The tracked model of a kind that takes milestones, or None."""
    if kind not in MILESTONE_SUBJECTS:
        return None
    return next((t.model for t in tracked() if t.model._meta.label_lower == kind), None)


def subject_get(*, kind: str, pk: Any) -> Model | None:
    """The subject a milestone may be attached to, or None (a kind that takes no milestones,
    or no such row in this shop)."""
    model = subject_model(kind)
    if model is None:
        return None
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    return model._default_manager.filter(pk=pk).first()


def may_view_subject(user: User, kind: str) -> bool:
    """Staff see a subject's milestones only if their role lets them see the subject."""
    app_label, model_name = kind.split(".", 1)
    return user.has_perm(f"{app_label}.view_{model_name}")


# ---------------------------------------------------------------------------------------------
# Milestones
# ---------------------------------------------------------------------------------------------
def _with_relations(qs: QuerySet) -> QuerySet:
    return qs.select_related("owner").prefetch_related(
        Prefetch("depends_on", queryset=Milestone.objects.only(
            "pk", "name", "status", "subject_type_id", "subject_id", "planned_end")))


def milestone_get(*, pk: Any) -> Milestone | None:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    return _with_relations(Milestone.objects.filter(pk=pk)).first()


def milestones_for_subject(*, subject_type_id: int, subject_id: int) -> QuerySet:
    return _with_relations(Milestone.objects.filter(subject_type_id=subject_type_id,
                                                    subject_id=subject_id))


def milestones_filtered(*, kind: str = "", subject_id: int | None = None, status: str = ""
                        ) -> QuerySet:
    """The API's list: every milestone of the shop, or a subject's, or one kind's."""
    qs = Milestone.objects.all()
    if kind:
        model = subject_model(kind)
        if model is None:
            return Milestone.objects.none()
        qs = qs.filter(subject_type_id=content_type_id(model))
        if subject_id is not None:
            qs = qs.filter(subject_id=subject_id)
    if status:
        qs = qs.filter(status=status)
    return _with_relations(qs)


def dependencies_done(milestone: Milestone) -> bool:
    """From the prefetched dependencies when there are (no query per row)."""
    return all(dep.status in DONE_STATES for dep in milestone.depends_on.all())


def waiting_for(milestone: Milestone) -> list[Milestone]:
    return [dep for dep in milestone.depends_on.all() if dep.status not in DONE_STATES]


def action_possible(milestone: Milestone, action: str, *, deps_done: bool | None = None
                    ) -> bool:
    """The milestone's state allows `action` and, for start/complete, its dependencies are
    done (whoever asks)."""
    transition = (_TRANSITIONS.get((milestone.status, action))
                  or _TRANSITIONS.get(("*", action)))
    if transition is None:
        return False
    if transition.conditions:
        return dependencies_done(milestone) if deps_done is None else deps_done
    return True


def milestone_actions(milestone: Milestone, user: User | None, *,
                      deps_done: bool | None = None) -> list[str]:
    """Transitions possible now, for this user (None: the system), in button order."""
    if user is not None and not user.has_perm(RUN_PERMISSION):
        return []
    if deps_done is None and any((milestone.status, a) in _TRANSITIONS
                                 for a in ("start", "complete")):
        deps_done = dependencies_done(milestone)
    return [action for action in ACTION_ORDER
            if action_possible(milestone, action, deps_done=deps_done)]


def schedule_total(*, subject_type_id: int, subject_id: int,
                   excluding: int | None = None) -> Decimal:
    """The share of the subject the milestones bill, cancelled ones aside (never billed)."""
    qs = (Milestone.objects.filter(subject_type_id=subject_type_id, subject_id=subject_id,
                                   bill_percent__isnull=False)
          .exclude(status=MilestoneStatus.CANCELLED))
    if excluding is not None:
        qs = qs.exclude(pk=excluding)
    return sum(qs.values_list("bill_percent", flat=True), ZERO)


def billed_invoices(milestones: list[Milestone]) -> dict[int, dict]:
    """milestone id -> {"reference", "url"} of the invoice that billed it (one query: the
    "billed" events that the billing app records on the milestones it bills)."""
    billed = [m.pk for m in milestones if m.billed_at]
    if not billed:
        return {}
    rows = (Event.objects.filter(subject_type_id=content_type_id(Milestone),
                                 subject_id__in=billed, verb="billed")
            .order_by("subject_id", "-id").values_list("subject_id", "data"))
    found: dict[int, dict] = {}
    for milestone_id, data in rows:
        if milestone_id in found or not isinstance(data, dict):
            continue
        url = ""
        if data.get("invoice_type") and data.get("invoice_id"):
            url = subject_url(int(data["invoice_type"]), int(data["invoice_id"]))
        found[milestone_id] = {"reference": data.get("invoice", ""), "url": url}
    return found


# ---------------------------------------------------------------------------------------------
# A subject's board: rows, cumulative shares, totals
# ---------------------------------------------------------------------------------------------
@dataclass
class Board:
    milestones: list[Milestone]
    # milestone id -> cumulative share billed once it completes (cancelled ones: None)
    cumulative: dict[int, Decimal | None] = field(default_factory=dict)
    schedule_total: Decimal = ZERO
    progress: int = 0
    progress_weighted: bool = False
    budget: Decimal = ZERO
    actual_cost: Decimal = ZERO
    invoices: dict[int, dict] = field(default_factory=dict)

    @property
    def cost_variance(self) -> Decimal:
        return self.actual_cost - self.budget


def board_for_subject(*, subject_type_id: int, subject_id: int, billing: bool) -> Board:
    milestones = list(milestones_for_subject(subject_type_id=subject_type_id,
                                             subject_id=subject_id))
    board = Board(milestones=milestones)
    running = ZERO
    for milestone in milestones:
        if milestone.bill_percent is None or milestone.status == MilestoneStatus.CANCELLED:
            board.cumulative[milestone.pk] = None
            continue
        running += milestone.bill_percent
        board.cumulative[milestone.pk] = running
    board.schedule_total = running
    live = [m for m in milestones if m.status != MilestoneStatus.CANCELLED]
    board.budget = sum((m.budget for m in live), ZERO)
    board.actual_cost = sum((m.actual_cost for m in live), ZERO)
    # Progress weighted by budget when every live milestone has one (a 2 M€ structure weighs
    # more than a 20 k€ survey); a plain average otherwise.
    if live and all(m.budget > 0 for m in live):
        board.progress_weighted = True
        weighted = sum((m.budget * m.progress for m in live), ZERO) / board.budget
        board.progress = int(weighted.quantize(Decimal("1")))
    elif live:
        board.progress = round(sum(m.progress for m in live) / len(live))
    if billing:
        board.invoices = billed_invoices(milestones)
    return board
