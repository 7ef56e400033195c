"""Dashboard: export the products of a kind as CSV, and import such a file back."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from catalog.models import PRODUCT_KINDS
from catalog.services.csv_io import (
    MAX_BYTES,
    MAX_ROWS,
    csv_columns,
    products_export_csv,
    products_import_csv,
    spec_codes,
)
from tenants.accounts.views import staff_required

PERMISSION = "catalog.import_products"
MAX_WARNINGS_SHOWN = 20


class CsvImportForm(forms.Form):
    # Lives here rather than in catalog/forms.py: only this page uses it.
    kind = forms.ChoiceField(label=gettext_lazy("Kind of product"),
                             choices=[(kind, model.KIND_LABEL) for kind, model in PRODUCT_KINDS.items()])
    file = forms.FileField(label=gettext_lazy("CSV file"),
                           widget=forms.FileInput(attrs={"accept": ".csv,text/csv"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Built per request: the numbers are formatted in the user's language.
        self.fields["file"].help_text = _(
            "Columns as in the export of this kind. Commas or semicolons, UTF-8 or Excel's "
            "encoding; at most %(rows)s products and %(mb)d MB.") % {
            "rows": number_format(MAX_ROWS, force_grouping=True),
            "mb": MAX_BYTES // (1024 * 1024)}


def _kinds() -> list[dict]:
    codes = spec_codes()
    return [{"code": kind, "label": model.KIND_LABEL, "columns": csv_columns(kind=kind, codes=codes)}
            for kind, model in PRODUCT_KINDS.items()]


def _render(request: HttpRequest, form: CsvImportForm, report=None, status: int = 200) -> HttpResponse:
    context = {"form": form, "kinds": _kinds(), "report": report, "max_rows": MAX_ROWS}
    return render(request, "catalog/csv/page.html", context, status=status)


@require_GET
@staff_required(PERMISSION)
def csv_page(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind")
    return _render(request, CsvImportForm(initial={"kind": kind if kind in PRODUCT_KINDS else "goods"}))


@require_GET
@staff_required(PERMISSION)
def csv_export(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in PRODUCT_KINDS:
        raise Http404(_("No such kind of product."))
    # French Excel opens a file by double-click only with ";" and decimal commas; the language
    # of the person downloading (the shop's by default) is the best guess of their spreadsheet's.
    semicolon = (translation.get_language() or "").startswith("fr")
    response = HttpResponse(products_export_csv(kind=kind, semicolon=semicolon),
                            content_type="text/csv; charset=utf-8")
    filename = f"products-{kind}-{timezone.localdate():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_POST
@staff_required(PERMISSION)
def csv_import(request: HttpRequest) -> HttpResponse:
    form = CsvImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render(request, form, status=422)
    kind = form.cleaned_data["kind"]
    report = products_import_csv(kind=kind, file=form.cleaned_data["file"], by=request.user)
    if not report.ok:
        return _render(request, form, report, status=422)
    messages.success(request, _("%(kind)s: %(created)d created, %(updated)d updated.") % {
        "kind": PRODUCT_KINDS[kind].KIND_LABEL, "created": report.created, "updated": report.updated})
    for warning in report.warnings[:MAX_WARNINGS_SHOWN]:
        messages.warning(request, str(warning))
    if len(report.warnings) > MAX_WARNINGS_SHOWN:
        messages.warning(request, _("… and %(n)d more warnings of the same kind.")
                         % {"n": len(report.warnings) - MAX_WARNINGS_SHOWN})
    return redirect(f"{reverse('catalog_csv:page')}?kind={kind}")
