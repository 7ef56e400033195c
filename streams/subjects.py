"""What streams knows about the models it follows, without importing them.

Domain apps register their models in their `AppConfig.ready()` (`streams.subjects.track(...)`):
how a row is named, where its page is, what its states and verbs are called and how important
each verb is. Transitions of tracked models are recorded by one receiver
(`streams.events.on_transition`); other events go through `streams.events.record`.

Content type ids are memoised per schema: django-tenants empties ContentType's own cache at
every schema switch, and each shop's ids are its own (the catalog does the same).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import Model


@dataclass(frozen=True)
class Tracking:
    model: type[Model]
    # "Order C-2026-00042": how the subject is named in feeds and notifications.
    label: Callable[[Any], str] = str
    # Page of the subject for staff, from its primary key ("" if it has none).
    url: Callable[[int], str] | None = None
    states: dict[str, Any] = field(default_factory=dict)
    verbs: dict[str, Any] = field(default_factory=dict)
    # verb -> Importance value; others are NORMAL.
    importance: dict[str, int] = field(default_factory=dict)
    # (event) -> a short detail line ("Tracking: 1Z...", "125,00 € by transfer") or "".
    describe: Callable[[Any], str] | None = None
    # What the kind of subject is called in filters ("Order", "Invoice").
    name: Any = ""
    # Record this model's FSM transitions automatically (post_transition).
    transitions: bool = True


_TRACKED: dict[type[Model], Tracking] = {}
_BY_LABEL: dict[str, Tracking] = {}


def track(model: type[Model], **options) -> Tracking:
    tracking = Tracking(model=model, **options)
    _TRACKED[model] = tracking
    _BY_LABEL[model._meta.label_lower] = tracking
    return tracking


def view_permission(tracking: Tracking) -> str:
    """`sales.view_order`: the right to open a subject's page is the right to see what streams
    holds about it (events, follows, comments, milestones, tasks)."""
    meta = tracking.model._meta
    return f"{meta.app_label}.view_{meta.model_name}"


def tracking_for(model: type[Model]) -> Tracking | None:
    """The registration of `model` or of the nearest registered parent (polymorphic kinds)."""
    for klass in model.__mro__:
        tracking = _TRACKED.get(klass)
        if tracking is not None:
            return tracking
    return None


def tracked() -> list[Tracking]:
    return list(_TRACKED.values())


_CT_BY_SCHEMA: dict[str, dict[str, int]] = {}
_MODEL_BY_SCHEMA: dict[str, dict[int, str]] = {}


def _memo() -> tuple[dict[str, int], dict[int, str]]:
    schema = connection.schema_name
    ids = _CT_BY_SCHEMA.get(schema)
    if ids is None:
        ids = {f"{app}.{model}": pk for pk, app, model in
               ContentType.objects.values_list("pk", "app_label", "model")}
        _CT_BY_SCHEMA[schema] = ids
        _MODEL_BY_SCHEMA[schema] = {pk: label for label, pk in ids.items()}
    return ids, _MODEL_BY_SCHEMA[schema]


def content_type_id(model_or_instance) -> int:
    """The content type id of a model (its concrete class for polymorphic rows' base: events
    of a product are about the product whatever its kind)."""
    meta = model_or_instance._meta
    tracking = tracking_for(type(model_or_instance) if isinstance(model_or_instance, Model)
                            else model_or_instance)
    label = tracking.model._meta.label_lower if tracking else meta.label_lower
    ids, _models = _memo()
    if label not in ids:  # a model created since the memo (a new app in tests, a migration)
        ct = ContentType.objects.get_for_model(tracking.model if tracking else model_or_instance)
        ids[label] = ct.pk
        _MODEL_BY_SCHEMA[connection.schema_name][ct.pk] = label
    return ids[label]


def label_for_type(content_type_id: int) -> str:
    """"sales.order" for an id of the current shop ("" if unknown)."""
    _ids, models = _memo()
    return models.get(content_type_id, "")


def tracking_for_type(content_type_id: int) -> Tracking | None:
    return _BY_LABEL.get(label_for_type(content_type_id))


def subject_label(instance) -> str:
    tracking = tracking_for(type(instance))
    return str(tracking.label(instance) if tracking else instance)[:200]


def subject_url(content_type_id: int, subject_id: int) -> str:
    tracking = tracking_for_type(content_type_id)
    if tracking is None or tracking.url is None:
        return ""
    return tracking.url(subject_id)


# ---------------------------------------------------------------------------------------------
# What a customer may raise a ticket about (their order, a lot they bought through one)
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CustomerSubject:
    """A kind of thing customers raise tickets about, registered by the domain app that owns
    it (sales registers its orders): streams asks it, and never reads the domain's tables."""

    model: type[Model]
    # (user, reference) -> the subject this customer owns, or None for anyone else's (and for
    # a reference that does not exist: the customer cannot tell the two apart).
    lookup: Callable[[Any, str], Model | None]
    # The query parameter naming it: /account/tickets/new/?order=C-2026-00042.
    name: str
    # What the customer calls it ("Order C-2026-00042") and its page in their account.
    label: Callable[[Any], str] = str
    url: Callable[[Any], str] | None = None
    # (user) -> [(reference, label)]: the customer's recent ones, offered when no reference
    # is given.
    choices: Callable[[Any], list[tuple[str, str]]] | None = None


_CUSTOMER_SUBJECTS: dict[str, CustomerSubject] = {}


def customer_subjects(model: type[Model], lookup: Callable[[Any, str], Model | None], *,
                      name: str, **options) -> CustomerSubject:
    """Register what customers may raise tickets about (domain apps, in their ready())."""
    kind = CustomerSubject(model=model, lookup=lookup, name=name, **options)
    _CUSTOMER_SUBJECTS[name] = kind
    return kind


def customer_subject_kinds() -> list[CustomerSubject]:
    return list(_CUSTOMER_SUBJECTS.values())


def customer_subject_named(name: str) -> CustomerSubject | None:
    return _CUSTOMER_SUBJECTS.get(name)


def customer_subject_for(instance) -> CustomerSubject | None:
    """The registration of a subject's kind (its class or a parent: polymorphic lots)."""
    for kind in _CUSTOMER_SUBJECTS.values():
        if isinstance(instance, kind.model):
            return kind
    return None


def customer_subject_lookup(user, *, name: str, reference: str):
    """The subject `user` owns under this kind and reference, or None (unknown kind, another
    customer's, or no such thing)."""
    kind = _CUSTOMER_SUBJECTS.get(name)
    if kind is None or user is None or not user.is_authenticated or not reference:
        return None
    return kind.lookup(user, reference)
