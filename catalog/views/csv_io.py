"""Dashboard: export the products of a kind as CSV, and import such a file back.

An import runs in the background (catalog.services.csv_io.import_job_create): the upload answers
at once with the job's page, whose progress bar HTMX refreshes (a plain reload without
JavaScript); the CSV page lists the recent imports, so a merchant can leave and come back.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from catalog.errors import CatalogError
from catalog.models import PRODUCT_KINDS, ImportJob, ImportState
from catalog.services.csv_io import (
    MAX_BYTES,
    MAX_ROWS,
    ImportProblem,
    csv_columns,
    import_job_create,
    import_job_get,
    import_jobs_recent,
    products_export_csv,
    spec_codes,
)
from tenants.accounts.views import staff_required

PERMISSION = "catalog.import_products"
MAX_PROBLEMS_SHOWN = 200


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


def _jobs_context() -> dict:
    jobs = list(import_jobs_recent())
    return {"jobs": jobs, "jobs_running": any(job.is_running and not job.is_stalled
                                              for job in jobs)}


def _render(request: HttpRequest, form: CsvImportForm, status: int = 200) -> HttpResponse:
    context = {"form": form, "kinds": _kinds(), "max_rows": MAX_ROWS, **_jobs_context()}
    return render(request, "catalog/csv/page.html", context, status=status)


@require_GET
@staff_required(PERMISSION)
def csv_page(request: HttpRequest) -> HttpResponse:
    if request.htmx and request.htmx.target == "import-jobs":
        return render(request, "catalog/csv/page.html#import-jobs", _jobs_context())
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
    try:
        job = import_job_create(kind=form.cleaned_data["kind"], file=form.cleaned_data["file"],
                                by=request.user, language=translation.get_language())
    except CatalogError as exc:
        form.add_error("file" if exc.field == "file" else None, exc.message)
        return _render(request, form, status=422)
    messages.success(request, _("“%(file)s” is being imported. You can leave this page: the "
                                "import goes on, and the import page shows how it ends.")
                     % {"file": job.file_name})
    return redirect("catalog_csv:job", pk=job.pk)


@require_GET
@staff_required(PERMISSION)
def csv_job(request: HttpRequest, pk: int) -> HttpResponse:
    job = import_job_get(pk=pk)
    if job is None:
        raise Http404(_("No such import."))
    context = {"job": job, **_outcome(job)}
    template = "catalog/csv/job.html#import-job" if request.htmx else "catalog/csv/job.html"
    return render(request, template, context)


def _outcome(job: ImportJob) -> dict:
    """What the page says about a finished job, in the reader's language (the problems
    themselves are in the uploader's)."""
    if job.is_running:
        return {}
    problems = [str(ImportProblem(p["line"], p["message"])) for p in job.errors]
    warnings = [str(ImportProblem(p["line"], p["message"])) for p in job.warnings]
    summary = ""
    if job.state == ImportState.DONE:
        summary = _("%(kind)s: %(created)d created, %(updated)d updated.") % {
            "kind": job.kind_label, "created": job.created_count, "updated": job.updated_count}
    return {"summary": summary, "problems": problems[:MAX_PROBLEMS_SHOWN],
            "problems_count": len(problems), "problems_hidden": max(0, len(problems) - MAX_PROBLEMS_SHOWN),
            "warnings": warnings[:MAX_PROBLEMS_SHOWN],
            "warnings_hidden": max(0, len(warnings) - MAX_PROBLEMS_SHOWN)}
