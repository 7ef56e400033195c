"""Forms of the tasks and tickets pages. They only parse input; streams.services.work
validates and writes (its WorkError names the field its message goes next to). Required text
fields say what the service would say, in the same words."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from streams.models import Priority, TaskStatus, TicketStatus
from streams.selectors_work import TASK_SORTS, TICKET_SORTS, assignable_staff


class _DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_full_name()


def _staff_field(label, *, empty_label) -> StaffChoiceField:
    return StaffChoiceField(queryset=assignable_staff(), required=False, label=label,
                            empty_label=empty_label,
                            error_messages={"invalid_choice": _(
                                "Choose someone from the list: this person is not active "
                                "staff of the shop.")})


def _priority_field() -> forms.TypedChoiceField:
    # Left out (an API-like post, a form without the select): normal.
    return forms.TypedChoiceField(label=_("Priority"), choices=Priority.choices, coerce=int,
                                  initial=Priority.NORMAL, required=False,
                                  empty_value=Priority.NORMAL)


# ---------------------------------------------------------------------------------------------
# Tasks
# ---------------------------------------------------------------------------------------------
class TaskForm(forms.Form):
    # Prefixed: the form sits on other apps' pages (a programme's), beside their own fields.
    prefix = "task"

    title = forms.CharField(label=_("Title"), max_length=200,
                            error_messages={"required": _("Give the task a title.")})
    description = forms.CharField(label=_("Description"), required=False, max_length=10_000,
                                  widget=forms.Textarea(attrs={"rows": 3}))
    due_date = forms.DateField(label=_("Due date"), required=False, widget=_DateInput)
    priority = _priority_field()
    milestone = forms.ModelChoiceField(label=_("Milestone"), queryset=None, required=False,
                                       empty_label=_("None"))

    def __init__(self, *args, milestones=None, with_assignee: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if milestones is None:
            del self.fields["milestone"]
        else:
            self.fields["milestone"].queryset = milestones
        if with_assignee:
            self.fields["assignee"] = _staff_field(_("Assignee"), empty_label=_("Nobody yet"))

    def edit_data(self) -> dict:
        return {key: self.cleaned_data[key] for key in
                ("title", "description", "due_date", "priority", "milestone")
                if key in self.cleaned_data}


class TaskStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=TaskStatus.choices,
                               error_messages={"invalid_choice": _(
                                   "Choose a status: to do, in progress, done or cancelled.")})


class AssignForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"] = _staff_field(_("Assign to"), empty_label=_("Nobody"))


TASK_STATUS_FILTERS = [("", _("All")), ("open", _("Open")), *TaskStatus.choices]
DUE_FILTERS = [("", _("Any due date")), ("overdue", _("Overdue")), ("today", _("Due today")),
               ("week", _("Due within 7 days")), ("none", _("No due date"))]


class _ListFilterForm(forms.Form):
    SORTS: dict = {}
    DEFAULT_SORT = ""

    q = forms.CharField(required=False, max_length=100)
    assignee = forms.CharField(required=False, max_length=12)
    priority = forms.TypedChoiceField(label=_("Priority"), required=False, coerce=int,
                                      empty_value=None,
                                      choices=[("", _("Any priority")), *Priority.choices])
    sort = forms.CharField(required=False)
    page = forms.IntegerField(required=False, min_value=1)

    def clean_sort(self) -> str:
        sort = self.cleaned_data.get("sort") or self.DEFAULT_SORT
        return sort if sort in self.SORTS else self.DEFAULT_SORT

    def values(self) -> dict:
        """The valid filters, each invalid one dropped (a stale bookmark still opens)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {name: data.get(name) for name in self.fields if name not in self.errors}


class TaskFilterForm(_ListFilterForm):
    SORTS = TASK_SORTS
    DEFAULT_SORT = "due"
    status = forms.ChoiceField(required=False, choices=TASK_STATUS_FILTERS)
    due = forms.ChoiceField(label=_("Due"), required=False, choices=DUE_FILTERS)


TICKET_STATUS_FILTERS = [("", _("All")), ("pending", _("Not closed")), *TicketStatus.choices]


class TicketFilterForm(_ListFilterForm):
    SORTS = TICKET_SORTS
    DEFAULT_SORT = "-updated"
    status = forms.ChoiceField(required=False, choices=TICKET_STATUS_FILTERS)


# ---------------------------------------------------------------------------------------------
# Tickets
# ---------------------------------------------------------------------------------------------
class MessageForm(forms.Form):
    body = forms.CharField(label=_("Message"), max_length=10_000,
                           widget=forms.Textarea(attrs={"rows": 4}),
                           error_messages={"required": _("Write your message.")})


class PriorityForm(forms.Form):
    priority = _priority_field()


class CustomerTicketForm(forms.Form):
    """A customer's question. `about` is "<kind>:<reference>" (order:C-2026-00042): hidden
    when the page was opened from the order, else chosen among their recent ones (the page
    draws the choices; the view looks the value up among the customer's own)."""

    about = forms.CharField(label=_("About"), required=False, max_length=100)
    title = forms.CharField(label=_("Subject"), max_length=200,
                            help_text=_("In a few words: “Delivery date”, “Damaged parcel”…"),
                            error_messages={"required": _("Say what it is about.")})
    body = forms.CharField(label=_("Message"), max_length=10_000,
                           widget=forms.Textarea(attrs={"rows": 6}),
                           error_messages={"required": _("Write your message.")})
