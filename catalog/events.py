"""How products (every kind) and programmes appear on timelines and in the activity feed.

`register()` runs in CatalogConfig.ready(). A real-estate lot's availability transitions
(option, reserve, release, sell) are recorded by streams itself; the services record product
creation, archiving, restoring and stock receipts, returns and adjustments.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.urls import reverse
from django.utils import formats
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from catalog.models import BaseProduct, LotAvailability, ProductStatus, Project
from streams.subjects import track

PRODUCT_VERBS = {
    "created": gettext_lazy("Product created"),
    "archived": gettext_lazy("Archived"),
    "restored": gettext_lazy("Restored"),
    "stock_received": gettext_lazy("Stock received"),
    "stock_returned": gettext_lazy("Stock returned"),
    "stock_adjusted": gettext_lazy("Stock adjusted"),
    "option": gettext_lazy("Optioned"),
    "reserve": gettext_lazy("Reserved"),
    "release": gettext_lazy("Available again"),
    "sell": gettext_lazy("Sold"),
}
PROJECT_VERBS = {
    "created": gettext_lazy("Programme created"),
    "updated": gettext_lazy("Details changed"),
}
PRODUCT_STATES = {**dict(ProductStatus.choices), **dict(LotAvailability.choices)}
PROJECT_STATES = dict(Project.Status.choices)

PRODUCT_URL_PREFIX = SimpleLazyObject(
    lambda: reverse("catalog_dashboard:product_detail", args=[0])[:-2])
PROJECT_URL_PREFIX = SimpleLazyObject(lambda: reverse("catalog_dashboard:project", args=[0])[:-2])


def _quantity(value) -> str:
    """2.000 -> 2, -1.500 -> −1.5 (1,5 in French), signed when it is a change."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    return formats.number_format(number.normalize(), use_l10n=True)


def product_label(product: BaseProduct) -> str:
    return f"{product.name} ({product.sku})"


def describe_product(event) -> str:
    data = event.data or {}
    details = []
    if data.get("quantity"):
        details.append(_("Quantity: %(quantity)s") % {"quantity": _quantity(data["quantity"])})
    if data.get("delta"):
        delta = Decimal(str(data["delta"]))
        details.append(_("%(before)s → %(after)s (%(delta)s)") % {
            "before": _quantity(Decimal(str(data.get("counted", 0))) - delta),
            "after": _quantity(data.get("counted", 0)),
            "delta": ("+" if delta > 0 else "") + _quantity(delta)})
    if data.get("until"):
        details.append(_("Until %(date)s") % {"date": data["until"][:10]})
    if data.get("reference"):
        details.append(_("Reference %(ref)s") % {"ref": data["reference"]})
    if data.get("reason"):
        details.append(data["reason"])
    if data.get("copy_of"):
        details.append(_("Copy of %(sku)s") % {"sku": data["copy_of"]})
    return " · ".join(details)


def describe_project(event) -> str:
    fields = (event.data or {}).get("fields") or []
    if not fields:
        return ""
    names = [str(Project._meta.get_field(name).verbose_name) for name in fields]
    return _("Changed: %(fields)s") % {"fields": ", ".join(names)}


def register() -> None:
    # BaseProduct covers every kind (goods, services, vehicles, lots): streams finds the
    # registration through the class hierarchy, and events are about the product whatever
    # its kind.
    track(BaseProduct, label=product_label, url=lambda pk: f"{PRODUCT_URL_PREFIX}{pk}/",
          states=PRODUCT_STATES, verbs=PRODUCT_VERBS, describe=describe_product,
          name=gettext_lazy("Product"))
    track(Project, label=lambda project: project.name,
          url=lambda pk: f"{PROJECT_URL_PREFIX}{pk}/", states=PROJECT_STATES,
          verbs=PROJECT_VERBS, describe=describe_project, name=gettext_lazy("Programme"),
          transitions=False)
