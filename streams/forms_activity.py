"""The activity feed's filters (dashboard). Every value lives in the URL. A value that is not
valid is shown as an error next to its field and left out of the filtering, so a stale
bookmark still opens."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from streams.models import ActorKind, Importance
from streams.selectors import FeedFilters


class _DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


IMPORTANCE_CHOICES = [("", _("Any importance")),
                      (str(Importance.NORMAL), _("Normal and important")),
                      (str(Importance.HIGH), _("Important only"))]


def staff_choices() -> list[tuple[str, str]]:
    """Staff members by name (deactivated ones too: their events stay in the feed)."""
    users = (get_user_model().objects.filter(is_staff=True).order_by("full_name", "email")
             .only("pk", "full_name", "email"))
    return [(str(user.pk), user.get_full_name()) for user in users]


class FeedFilterForm(forms.Form):
    who = forms.ChoiceField(label=_("Who"), required=False)
    kind = forms.ChoiceField(label=_("What"), required=False)
    importance = forms.ChoiceField(label=_("Importance"), required=False,
                                   choices=IMPORTANCE_CHOICES)
    date_from = forms.DateField(label=_("From"), required=False, widget=_DateInput)
    date_to = forms.DateField(label=_("To"), required=False, widget=_DateInput)
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, data=None, *, kinds: dict, staff: list[tuple[str, str]]):
        super().__init__(data)
        self.fields["who"].choices = [
            ("", _("Anyone")), (ActorKind.STAFF.value, _("Any staff member")),
            (ActorKind.CUSTOMER.value, _("Customers")),
            (ActorKind.SYSTEM.value, _("Automatic")),
            (_("Staff members"), staff)]
        self.fields["kind"].choices = [("", _("Everything")), *[
            (key, tracking.name or key) for key, tracking in kinds.items()]]
        self.fields["who"].error_messages["invalid_choice"] = _(
            "This person is not one of the shop's staff: choose someone in the list.")
        self.fields["kind"].error_messages["invalid_choice"] = _(
            "Choose a kind of object in the list (your role may not view this one).")

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end of the period is before its start."))
        return data

    def values(self) -> dict:
        """The valid values (an invalid one is dropped, its error shown)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {name: data.get(name) for name in self.fields if name not in self.errors}

    def filters(self) -> FeedFilters:
        values = self.values()
        return FeedFilters(
            who=values.get("who") or None,
            kinds=(values["kind"],) if values.get("kind") else (),
            importance=int(values["importance"]) if values.get("importance") else None,
            date_from=values.get("date_from"), date_to=values.get("date_to"))

