"""Forms of the milestone pages. They only parse input; streams.services.milestones checks
and writes (its MilestoneError names the field its message goes next to). The name is not
`required` here so the one message people read is the service's."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from streams.models import Milestone


class _DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class _StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_full_name()


def _money(label) -> forms.DecimalField:
    return forms.DecimalField(label=label, required=False, max_digits=14, decimal_places=2,
                              localize=True, widget=forms.TextInput(attrs={
                                  "inputmode": "decimal"}))


class MilestoneForm(forms.Form):
    """Add or edit a milestone. `billing`: its subject is an order, so it may bill a share."""

    name = forms.CharField(label=_("Name"), required=False, max_length=150)
    owner = _StaffChoiceField(label=_("Owner"), queryset=None, required=False,
                              empty_label=_("Nobody yet"), error_messages={"invalid_choice": _(
                                  "Choose someone from the list: this person is not active "
                                  "staff of the shop.")})
    planned_start = forms.DateField(label=_("Planned start"), required=False, widget=_DateInput)
    # Hints of fields in a row are printed under the row (streams/milestones/_fields.html):
    # under one field they would push it out of line with its neighbours.
    planned_end = forms.DateField(label=_("Planned end"), required=False, widget=_DateInput)
    actual_start = forms.DateField(label=_("Actual start"), required=False, widget=_DateInput)
    actual_end = forms.DateField(label=_("Actual end"), required=False, widget=_DateInput)
    progress = forms.IntegerField(label=_("Progress (%)"), required=False, min_value=0,
                                  max_value=100)
    budget = _money(_("Budget (€)"))
    actual_cost = _money(_("Actual cost (€)"))
    bill_percent = forms.DecimalField(
        label=_("Share of the order billed at completion (%)"), required=False, max_digits=5,
        decimal_places=2, localize=True, widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        help_text=_("Completing the milestone issues the instalment invoice, e.g. 35 at the "
                    "foundations, 35 at the roof, 25 at completion, 5 at handover. Leave "
                    "empty for a milestone that bills nothing."))
    position = forms.IntegerField(label=_("Position"), required=False, min_value=0)
    description = forms.CharField(label=_("Description"), required=False, max_length=5000,
                                  widget=forms.Textarea(attrs={"rows": 3}))

    EDIT_FIELDS = ("name", "owner", "planned_start", "planned_end", "actual_start",
                   "actual_end", "progress", "budget", "actual_cost", "bill_percent",
                   "position", "description")
    # Left empty: the model's default on a new milestone (0, last), unchanged on an edit.
    KEEP_IF_EMPTY = ("progress", "budget", "actual_cost", "position")

    def __init__(self, *args, billing: bool = False, milestone: Milestone | None = None,
                 **kwargs):
        if milestone is not None and "initial" not in kwargs:
            kwargs["initial"] = {name: getattr(milestone, name) for name in self.EDIT_FIELDS}
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = (get_user_model().objects
                                         .filter(is_staff=True, is_active=True)
                                         .order_by("full_name", "email"))
        if not billing:
            del self.fields["bill_percent"]
        if milestone is None:  # a new milestone has not happened yet
            for name in ("actual_start", "actual_end", "progress"):
                del self.fields[name]
        self.fields["name"].widget.attrs["required"] = True  # marked; the service says why

    def service_data(self) -> dict:
        data = {}
        for name in self.EDIT_FIELDS:
            if name not in self.cleaned_data:
                continue
            value = self.cleaned_data[name]
            if value is None and name in self.KEEP_IF_EMPTY:
                continue
            data[name] = value
        return data


class DependenciesForm(forms.Form):
    """What a milestone waits for: the other milestones of its subject."""

    depends_on = forms.ModelMultipleChoiceField(
        label=_("Waits for"), queryset=None, required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("It can start once these are completed (or cancelled)."),
        error_messages={"invalid_choice": _("Choose milestones of the same programme or "
                                            "order.")})

    def __init__(self, *args, milestone: Milestone, siblings=None, **kwargs):
        if "initial" not in kwargs:
            kwargs["initial"] = {"depends_on": [m.pk for m in milestone.depends_on.all()]}
        super().__init__(*args, **kwargs)
        queryset = siblings if siblings is not None else Milestone.objects.filter(
            subject_type_id=milestone.subject_type_id, subject_id=milestone.subject_id)
        self.fields["depends_on"].queryset = queryset.exclude(pk=milestone.pk)


class TransitionForm(forms.Form):
    """A cancellation's reason (required by the service), a delay's note."""

    message = forms.CharField(label=_("Reason"), required=False, max_length=1000,
                              widget=forms.Textarea(attrs={"rows": 2}))
