"""Streams' own models on timelines (milestones, tasks, tickets): registered like any domain
model, so their transitions and changes are events too."""

from __future__ import annotations


def register_milestones() -> None:
    """Milestone (filled by the milestones area)."""


def register_work() -> None:
    """Task and Ticket (filled by the work area)."""


def register() -> None:
    register_milestones()
    register_work()
