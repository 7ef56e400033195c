"""Streams' own models on timelines (milestones, tasks, tickets): registered like any domain
model, so their transitions and changes are events too."""

from __future__ import annotations


def register_milestones() -> None:
    """Milestone: its transitions are recorded by the post_transition receiver (the services
    say who acts); creation, edits, dependencies and billing are recorded by the services."""
    # Imported here, not at the top: each area's registration in this shared module stays
    # self-contained (and the services are only needed once the app registry is ready).
    from django.urls import reverse
    from django.utils.translation import gettext_lazy as _

    from streams.models import Milestone, MilestoneStatus
    from streams.services.milestones import (
        MILESTONE_IMPORTANCE,
        MILESTONE_VERBS,
        describe_milestone_event,
    )
    from streams.subjects import track

    track(Milestone,
          label=lambda m: str(_("Milestone “%(name)s” of %(subject)s")
                              % {"name": m.name, "subject": m.subject_label}),
          url=lambda pk: reverse("streams:milestone_detail", args=[pk]),
          states=dict(MilestoneStatus.choices), verbs=MILESTONE_VERBS,
          importance=MILESTONE_IMPORTANCE, describe=describe_milestone_event,
          name=_("Milestone"))


def register_work() -> None:
    """Task and Ticket. Neither has a state machine: their services record each change
    themselves (`transitions=False`), with the status before and after when it changed."""
    # Imported here, not at the top: each area's registration in this shared module stays
    # self-contained (and the services are only needed once the app registry is ready).
    from django.urls import reverse
    from django.utils.translation import gettext_lazy as _

    from streams.models import Task, TaskStatus, Ticket, TicketStatus
    from streams.services.work import (
        TASK_IMPORTANCE,
        TASK_VERBS,
        TICKET_IMPORTANCE,
        TICKET_VERBS,
        describe_work_event,
    )
    from streams.subjects import track

    track(Task, label=lambda task: str(_("Task “%(title)s”") % {"title": task.title}),
          url=lambda pk: reverse("streams:task_detail", args=[pk]),
          states=dict(TaskStatus.choices), verbs=TASK_VERBS, importance=TASK_IMPORTANCE,
          describe=describe_work_event, name=_("Task"), transitions=False)
    track(Ticket, label=lambda ticket: str(_("Ticket #%(number)s %(title)s")
                                           % {"number": ticket.pk, "title": ticket.title}),
          url=lambda pk: reverse("streams:ticket_detail", args=[pk]),
          states=dict(TicketStatus.choices), verbs=TICKET_VERBS, importance=TICKET_IMPORTANCE,
          describe=describe_work_event, name=_("Ticket"), transitions=False)


def register() -> None:
    register_milestones()
    register_work()
