"""Signals streams sends so domain apps can act without streams importing them."""

from django.dispatch import Signal

# Sent inside the completing transaction, once per completed milestone: milestone=Milestone.
# billing bills the milestone's share of its order (billing/receivers.py).
milestone_completed = Signal()
