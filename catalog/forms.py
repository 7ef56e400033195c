"""Dashboard forms: one per product kind. They only parse and validate input; the services
(catalog.services.*) write."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from html import escape

from django import forms
from django.core.exceptions import FieldDoesNotExist
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from catalog.models import (
    Category,
    Product,
    ProductStatus,
    ProductType,
    Project,
    RealEstateLot,
    ServiceProduct,
    SpecKind,
    TaxRate,
    Vehicle,
)

COMMON = ["name", "sku", "net_price", "tax_rate", "unit", "category", "product_type",
          "description"]


class ProductFormBase(forms.ModelForm):
    """Common fields, plus one field per specification of the chosen product type."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tax_rate"].queryset = TaxRate.objects.all()
        self.fields["tax_rate"].empty_label = None
        self.fields["category"].queryset = Category.objects.order_by("path")
        self.fields["category"].label_from_instance = lambda c: ("— " * c.depth) + c.name
        self.fields["description"].widget = forms.Textarea(attrs={"rows": 5})
        # Fields with a model default (rooms, floor, threshold...) may be left empty.
        self._defaulted = set()
        for name in list(self.fields):
            try:
                model_field = self._meta.model._meta.get_field(name)
            except FieldDoesNotExist:
                continue
            if model_field.has_default() and not model_field.blank:
                self.fields[name].required = False
                self._defaulted.add(name)
        if not self.instance.pk and not self.initial.get("tax_rate"):
            default = TaxRate.objects.filter(is_default=True).first()
            if default:
                self.initial["tax_rate"] = default.pk
        self._add_spec_fields()

    def _product_type(self) -> ProductType | None:
        raw = self.data.get(self.add_prefix("product_type")) if self.is_bound else None
        if raw:
            return ProductType.objects.filter(pk=raw).first() if str(raw).isdigit() else None
        return self.instance.product_type if self.instance.pk else None

    def _add_spec_fields(self) -> None:
        product_type = self._product_type()
        self.spec_fields: list[str] = []
        if product_type is None:
            return
        for spec in product_type.specs.all():
            name = f"spec_{spec.code}"
            label = f"{spec.label} ({spec.unit})" if spec.unit else spec.label
            if spec.kind == SpecKind.NUMBER:
                field = forms.DecimalField(label=label, required=False)
            elif spec.kind == SpecKind.BOOLEAN:
                field = forms.NullBooleanField(label=label, required=False)
            elif spec.kind == SpecKind.CHOICE:
                field = forms.ChoiceField(label=label, required=False,
                                          choices=[("", "—")] + [(c, c) for c in spec.choices])
            else:
                field = forms.CharField(label=label, required=False, max_length=500)
            field.spec_required = spec.required
            self.fields[name] = field
            self.initial.setdefault(name, (self.instance.specs or {}).get(spec.code))
            self.spec_fields.append(name)

    def service_data(self) -> dict:
        """cleaned_data shaped for catalog.services.products."""
        data = {k: v for k, v in self.cleaned_data.items()
                if not k.startswith("spec_") and not (k in self._defaulted and v is None)}
        data["specs"] = {name[5:]: self.cleaned_data[name] for name in self.spec_fields
                         if self.cleaned_data.get(name) not in (None, "")}
        for code, value in data["specs"].items():
            if isinstance(value, Decimal):
                data["specs"][code] = str(value)
        return data

    def common_fields(self):
        return [self[name] for name in COMMON if name in self.fields]

    def kind_fields(self):
        return [self[name] for name in self.fields
                if name not in COMMON and not name.startswith("spec_") and name != "initial_stock"]

    def specs_bound(self):
        return [self[name] for name in self.spec_fields]


class GoodsForm(ProductFormBase):
    initial_stock = forms.DecimalField(label=_("Initial stock"), required=False, min_value=0,
                                       help_text=_("Units on hand now; later changes go through "
                                                   "stock receipts and adjustments."))

    class Meta:
        model = Product
        fields = COMMON + ["weight_kg", "length_cm", "width_cm", "height_cm",
                           "low_stock_threshold"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            del self.fields["initial_stock"]


class ServiceForm(ProductFormBase):
    class Meta:
        model = ServiceProduct
        fields = COMMON + ["duration_minutes"]


class LotForm(ProductFormBase):
    class Meta:
        model = RealEstateLot
        fields = COMMON + ["project", "lot_number", "surface_m2", "rooms", "floor", "orientation",
                           "parking_spaces"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = Project.objects.all()


class VehicleForm(ProductFormBase):
    initial_stock = forms.DecimalField(label=_("Units in stock"), required=False, min_value=0,
                                       initial=1)

    class Meta:
        model = Vehicle
        fields = COMMON + ["make", "model", "year", "mileage_km", "vin"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            del self.fields["initial_stock"]


FORMS_BY_KIND: dict[str, type[ProductFormBase]] = {
    "goods": GoodsForm, "service": ServiceForm, "lot": LotForm, "vehicle": VehicleForm,
}

PRODUCT_SORTS = {
    "name": "name", "-name": "-name", "price": "net_price", "-price": "-net_price",
    "sku": "sku", "-sku": "-sku", "updated": "updated_at", "-updated": "-updated_at",
}


class ProductFilterForm(forms.Form):
    """The product list's filter bar. Categories come from the caller (one query it already
    made), and `selects` gives the template each select's options as HTML: Django's widget
    templates (and even a template loop over the options) cost more than the whole table on
    the list's every request."""

    SELECTS = ("kind", "category", "status", "stock")

    q = forms.CharField(label=_("Search"), required=False)
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[
        ("", _("All kinds")), ("goods", _("Goods")), ("service", _("Services")),
        ("lot", _("Real-estate lots")), ("vehicle", _("Vehicles"))])
    category = forms.TypedChoiceField(label=_("Category"), required=False, coerce=int,
                                      empty_value=None)
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("Active and archived"))] + ProductStatus.choices)
    stock = forms.ChoiceField(label=_("Stock"), required=False, choices=[
        ("", _("Any stock")), ("in_stock", _("In stock")), ("low", _("Low stock")),
        ("out", _("Out of stock"))])
    sort = forms.ChoiceField(required=False, choices=[(k, k) for k in PRODUCT_SORTS])
    page = forms.IntegerField(required=False, min_value=1)

    def __init__(self, *args, categories: Iterable[Category] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self._categories = {category.pk: category for category in categories}
        self.fields["category"].choices = [("", _("All categories"))] + [
            (pk, category.name) for pk, category in self._categories.items()]

    def clean_category(self) -> Category | None:
        pk = self.cleaned_data.get("category")
        return self._categories.get(pk) if pk is not None else None

    def selects(self) -> list[dict]:
        """name, label and `options` (HTML) of each select, as Django's Select widget renders
        them: the value the visitor sent is selected."""
        out = []
        for name in self.SELECTS:
            field = self.fields[name]
            current = str(self.data.get(name, "")) if self.is_bound else ""
            options = "".join(
                f'<option value="{escape(str(value))}"{" selected" if str(value) == current else ""}>'
                f"{escape(str(label))}</option>" for value, label in field.choices)
            out.append({"name": name, "label": field.label,
                        "options": mark_safe(options)})  # noqa: S308 - values and labels escaped
        return out


class StockAdjustForm(forms.Form):
    counted = forms.DecimalField(label=_("Counted quantity"), min_value=0, decimal_places=3)
    reason = forms.CharField(label=_("Reason"), max_length=255,
                             help_text=_("Required: e.g. “inventory count”, “breakage”."))


class StockReceiveForm(forms.Form):
    quantity = forms.DecimalField(label=_("Quantity received"), min_value=Decimal("0.001"),
                                  decimal_places=3)
    reason = forms.CharField(label=_("Note"), max_length=255, required=False,
                             help_text=_("e.g. the supplier's delivery note number"))


class CategoryForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    parent = forms.ModelChoiceField(label=_("Parent"), required=False,
                                    queryset=Category.objects.order_by("path"),
                                    empty_label=_("(top level)"))


class ProductTypeForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)


class SpecDefinitionForm(forms.Form):
    label = forms.CharField(label=_("Label"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind of value"), choices=SpecKind.choices)
    unit = forms.CharField(label=_("Unit"), max_length=20, required=False,
                           help_text=_("For numbers, e.g. cm, kg, W"))
    choices = forms.CharField(label=_("Options"), required=False,
                              help_text=_("For a choice: one option per line"),
                              widget=forms.Textarea(attrs={"rows": 3}))
    required = forms.BooleanField(label=_("Required"), required=False)


class ProjectForm(forms.ModelForm):
    class Meta:
        model = Project
        fields = ["name", "status", "address", "city", "delivery_date", "description"]
        widgets = {"delivery_date": forms.DateInput(attrs={"type": "date"}),
                   "description": forms.Textarea(attrs={"rows": 4})}

