"""CSV import and export of products, one format per kind ("goods", "service", "lot", "vehicle").

The header row names the columns: the kind's editable fields, then one `spec:<code>` column per
specification code of the shop's product types. The import is all or nothing: every row is parsed
and validated first and every problem is reported with its line (line 1 is the header, line 2 the
first product, as a spreadsheet numbers them); only a clean file is written, in one transaction.
The rules are those of product_create / product_update (the forms and the API), checked for the
whole file at once (the plan limit included), and the rows are then written in bulk, a chunk of
lines per statement, with the stock ledger of new goods written alongside (a level and an
"Initial stock" receipt each, so on hand stays the sum of the movements).

From the dashboard a file is imported by an ImportJob in the background (a Celery task, or a
thread when there is no broker): `import_job_create` stores the upload and queues the run on
commit; `import_job_run` validates and writes, publishing its progress through a second
database connection so other requests see it while the import's transaction is still open.

Cells: an empty cell clears an optional value (weight, category...); a value that always exists
(unit, floor, VAT rate...) keeps its current value, or takes the default for a new product; a
required one (name, price...) is an error. Exported for information only: `availability` (lots
change it through options and sales) and, for existing goods, `stock` (changed by receipts and
adjustments, which keep the ledger); `stock` is the initial stock of new goods.
"""

from __future__ import annotations

import copy
import csv
import io
import os
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django_tenants.utils import tenant_context

from catalog.cache import catalog_cache_bump
from catalog.errors import CatalogError
from catalog.models import (
    PRODUCT_KINDS,
    BaseProduct,
    Category,
    ImportJob,
    ImportState,
    MovementKind,
    ProductStatus,
    ProductType,
    Project,
    RealEstateLot,
    SpecDefinition,
    SpecKind,
    StockLevel,
    StockMovement,
    TaxRate,
    Vehicle,
)
from catalog.selectors import kind_by_ctype
from catalog.services.products import (
    product_restore,
    products_archive,
    sanitize_description,
    specs_clean,
    vin_problem,
)

if TYPE_CHECKING:
    from tenants.accounts.models import User
    from tenants.models import Shop

MAX_ROWS = 5000
MAX_BYTES = 5 * 1024 * 1024
SPEC_PREFIX = "spec:"
COMMON_COLUMNS = ("sku", "name", "description", "net_price", "tax_rate", "unit", "category",
                  "product_type", "status")
KIND_COLUMNS: dict[str, tuple[str, ...]] = {
    "goods": ("weight_kg", "length_cm", "width_cm", "height_cm", "low_stock_threshold", "stock"),
    "service": ("duration_minutes",),
    "lot": ("project", "lot_number", "surface_m2", "rooms", "floor", "orientation",
            "parking_spaces", "availability"),
    "vehicle": ("make", "model", "year", "mileage_km", "vin", "stock"),
}
EXPORT_ONLY = frozenset({"availability"})
# Columns that are not model fields written through the services.
_SPECIAL = frozenset({"stock", "availability", "status"})
# Fields validated here rather than by Model.clean_fields: relations (clean_fields would run one
# query per row and relation to check they exist: they were looked up already), the specs
# (specs_clean) and what the services set themselves.
_NOT_CLEANED = {"slug", "specs", "availability", "option_expires_at", "created_at", "updated_at"}
# A spreadsheet runs a cell starting with one of these as a formula ("CSV injection"): exported
# text gets a leading apostrophe, which the import removes again, so files round-trip.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SPACES = re.compile(r"[\s\u00a0\u202f]")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_KEEP = object()  # "leave this field as it is" (or its default for a new product)
# Lines written per statement: big enough that a 5,000-line file is a dozen statements, small
# enough that the progress bar moves a few times on the way.
WRITE_CHUNK = 500
# Progress is published at most this often (seconds): each publication is a write.
PUBLISH_EVERY = 0.25
RECENT_JOBS = 10


@dataclass(frozen=True)
class ImportProblem:
    line: int | None  # None: about the whole file
    message: str

    def __str__(self) -> str:
        if self.line is None:
            return self.message
        return _("Line %(line)d: %(message)s") % {"line": self.line, "message": self.message}


@dataclass
class ImportReport:
    kind: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    errors: list[ImportProblem] = field(default_factory=list)
    warnings: list[ImportProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class _Refused(Exception):
    """The file as a whole cannot be imported."""

    def __init__(self, message: str = "", *, problems: list[ImportProblem] | None = None):
        super().__init__(message)
        self.problems = problems or [ImportProblem(None, message)]


class _CellError(Exception):
    pass


class _RowFailed(Exception):
    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.problem = ImportProblem(line, message)


class ImportProgress:
    """Where an import says how far it is. This one tells no one (a direct call, a test);
    a background job publishes it (_JobProgress)."""

    def phase(self, state: str, *, total: int) -> None:
        """A new phase starts (validating, then importing) over `total` lines."""

    def advance(self, processed: int) -> None:
        """`processed` lines of the current phase are done."""


def _model(kind: str) -> type[BaseProduct]:
    model = PRODUCT_KINDS.get(kind)
    if model is None:
        raise CatalogError(_("Unknown product kind “%(kind)s”.") % {"kind": kind}, field="kind")
    return model


def spec_codes() -> list[str]:
    """Every specification code of the shop's product types, once, in alphabetical order."""
    return list(SpecDefinition.objects.order_by("code").values_list("code", flat=True).distinct())


def csv_columns(*, kind: str, codes: Iterable[str] | None = None) -> list[str]:
    """The header of `kind`'s file."""
    _model(kind)
    codes = spec_codes() if codes is None else codes
    return [*COMMON_COLUMNS, *KIND_COLUMNS[kind], *(f"{SPEC_PREFIX}{code}" for code in codes)]


# --- export ------------------------------------------------------------------------------------

def products_export_csv(*, kind: str, semicolon: bool = False) -> str:
    """The products of `kind` as CSV text (with a BOM so Excel reads it as UTF-8). `semicolon`
    writes what French Excel expects: ";" between cells and decimal commas."""
    model = _model(kind)
    definitions = list(SpecDefinition.objects.values_list("product_type_id", "code", "kind"))
    number_specs = {(type_id, code) for type_id, code, spec_kind in definitions
                    if spec_kind == SpecKind.NUMBER}
    codes = sorted({code for _type_id, code, _kind in definitions})
    columns = csv_columns(kind=kind, codes=codes)
    related = ["tax_rate", "category", "product_type"]
    if model.STOCKED:
        related.append("stock")
    if kind == "lot":
        related.append("project")
    products = model.objects.select_related(*related).order_by("sku")

    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";" if semicolon else ",", lineterminator="\r\n")
    writer.writerow(columns)

    def number(value: Decimal | None, *, exact: bool = False) -> str:
        if value is None:
            return ""
        text = f"{value:f}" if exact else f"{value.normalize():f}"
        return text.replace(".", ",") if semicolon else text

    def spec(product: BaseProduct, code: str) -> str:
        value = (product.specs or {}).get(code)
        if value is None:
            return ""
        if isinstance(value, bool):
            return "yes" if value else "no"
        if (product.product_type_id, code) in number_specs and _NUMBER.match(str(value)):
            return number(Decimal(str(value)))
        return _text_out(str(value))

    for product in products:
        row: list[str] = []
        for column in columns:
            if column.startswith(SPEC_PREFIX):
                row.append(spec(product, column[len(SPEC_PREFIX):]))
            elif column == "tax_rate":
                row.append(number(product.tax_rate.rate))
            elif column == "category":
                row.append(_text_out(product.category.path) if product.category else "")
            elif column == "product_type":
                row.append(_text_out(product.product_type.name) if product.product_type else "")
            elif column == "project":
                row.append(_text_out(product.project.slug))
            elif column == "stock":
                level = getattr(product, "stock", None)
                row.append(number(level.on_hand) if level else "")
            else:
                value = getattr(product, column)
                if isinstance(value, Decimal):
                    row.append(number(value, exact=column == "net_price"))
                elif value is None:
                    row.append("")
                elif isinstance(value, str):
                    row.append(_text_out(value))
                else:
                    row.append(str(value))
        writer.writerow(row)
    return out.getvalue()


def _text_out(value: str) -> str:
    return f"'{value}" if value.startswith(_FORMULA_START) else value


def _text_in(value: str) -> str:
    return value[1:] if value.startswith("'") and value[1:].startswith(_FORMULA_START) else value


# --- import ------------------------------------------------------------------------------------

@transaction.atomic
def products_import_csv(*, kind: str, file, by: User | None = None,
                        progress: ImportProgress | None = None) -> ImportReport:
    """Import a CSV file of `kind` (an uploaded file or any binary file object): products are
    matched by SKU (updated) or created. Nothing is written unless every row is valid; the
    report lists every problem with its line, or what was created and updated."""
    model = _model(kind)
    progress = progress or ImportProgress()
    report = ImportReport(kind=kind)
    try:
        header, records = _parse(_read_text(file))
        progress.phase(ImportState.VALIDATING, total=len(records))
        importer = _Importer(model=model, kind=kind, header=header, report=report)
        rows = importer.validate(records, progress=progress)
        if not report.errors:
            _check_plan_limit(rows, report)
    except _Refused as refused:
        report.errors.extend(refused.problems)
        return report
    if report.errors:
        report.warnings.clear()
        return report
    try:
        # A savepoint of its own: a refusal rolls back this file's writes, and the caller's
        # transaction (if any) stays usable.
        with transaction.atomic():
            _write_all(rows, model=model, by=by, report=report, progress=progress)
    except _RowFailed as failed:
        report.created = report.updated = 0
        report.warnings.clear()
        report.errors.append(failed.problem)
    except IntegrityError:
        # Validation saw every SKU, VIN and lot number as free; someone took one since.
        report.created = report.updated = 0
        report.warnings.clear()
        report.errors.append(ImportProblem(None, _(
            "The catalog changed while this file was imported (a SKU, VIN or lot number was "
            "taken meanwhile). Nothing was imported: import the file again.")))
    return report


def _read_bounded(file) -> bytes:
    """The file's bytes, refused beyond MAX_BYTES without reading more than that."""
    size = getattr(file, "size", None)
    if size is not None and size > MAX_BYTES:
        raise CatalogError(_too_big(), field="file")
    if hasattr(file, "seek"):
        file.seek(0)
    raw = file.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        raise CatalogError(_too_big(), field="file")
    return raw


def _read_text(file) -> str:
    try:
        raw = _read_bounded(file)
    except CatalogError as exc:
        raise _Refused(exc.message) from exc
    if raw.startswith(b"PK\x03\x04"):
        raise _Refused(_("This is a spreadsheet workbook, not a CSV file: in your spreadsheet, "
                         "use “Save as” and choose CSV."))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel on Windows saves "CSV (semicolon separated)" in Windows-1252, not UTF-8.
        try:
            text = raw.decode("cp1252")
        except UnicodeDecodeError:
            raise _Refused(_("This file is not a CSV text file (UTF-8 or Windows-1252).")) from None
    if not text.strip():
        raise _Refused(_("The file is empty."))
    return text


def _too_big() -> str:
    return _("This file is larger than %(mb)d MB: split it into several files and import them one "
             "after the other.") % {"mb": MAX_BYTES // (1024 * 1024)}


def _parse(text: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise _Refused(_("This file cannot be read as CSV: %(reason)s") % {"reason": exc}) from exc
    header = [cell.strip() for cell in records[0]]
    # Line numbers count records, as a spreadsheet numbers its rows (a cell may span lines).
    data = [(number, cells) for number, cells in enumerate(records[1:], start=2)
            if any(cell.strip() for cell in cells)]
    if not data:
        raise _Refused(_("This file has no products: only a header line."))
    if len(data) > MAX_ROWS:
        raise _Refused(_("This file has %(rows)d products; an import takes at most %(max)d. Split "
                         "it into several files.") % {"rows": len(data), "max": MAX_ROWS})
    return header, data


@dataclass
class _Row:
    line: int
    sku: str
    existing: BaseProduct | None
    data: dict[str, Any]
    status: str | None
    initial_stock: Decimal | None
    product: BaseProduct  # as it will be saved: `existing` with the line applied, or a new one
    changed: bool = True  # False: the line says what is already stored


class _Importer:
    """Validation of one file: the lookups it needs are loaded once, whatever its length."""

    def __init__(self, *, model: type[BaseProduct], kind: str, header: list[str],
                 report: ImportReport):
        self.model, self.kind, self.report = model, kind, report
        self.columns: dict[int, str] = {}
        self.specs: dict[int, str] = {}
        self._read_header(header)

    def _read_header(self, header: list[str]) -> None:
        known = set(csv_columns(kind=self.kind, codes=()))
        codes = set(spec_codes())
        seen: set[str] = set()
        problems = []
        for index, name in enumerate(header):
            if not name:
                continue  # spreadsheets often add empty columns at the end
            spec_code = name[len(SPEC_PREFIX):].strip() if name.lower().startswith(SPEC_PREFIX) else None
            key = f"{SPEC_PREFIX}{spec_code}" if spec_code is not None else name.lower()
            if key in seen:
                problems.append(_("column “%(column)s” appears twice") % {"column": name})
            elif spec_code is not None and spec_code in codes:
                self.specs[index] = spec_code
            elif key in known:
                self.columns[index] = key
            elif spec_code is not None:
                problems.append(_("column “%(column)s”: no product type has a specification "
                                  "“%(code)s”") % {"column": name, "code": spec_code})
            else:
                problems.append(_("unknown column “%(column)s” (the columns for this kind are: "
                                  "%(columns)s)") % {"column": name,
                                                     "columns": ", ".join(sorted(known))})
            seen.add(key)
        if "sku" not in self.columns.values():
            problems.append(_("the “sku” column is missing: it says which product each line is"))
        if problems:
            raise _Refused(problems=[ImportProblem(1, problem) for problem in problems])

    # The lookups every row needs, in a constant number of queries.
    def _load(self, records: list[tuple[int, list[str]]]) -> None:
        self.sku_index = next(i for i, c in self.columns.items() if c == "sku")
        skus = {self._sku(cells) for _line, cells in records} - {""}
        related = ["tax_rate", "category", "product_type"]
        if self.model.STOCKED:
            related.append("stock")
        if self.kind == "lot":
            related.append("project")
        self.existing = {p.sku: p for p in self.model.objects.select_related(*related)
                         .filter(sku__in=skus)}
        kinds = kind_by_ctype()
        self.other_kinds = {sku: kinds.get(ctype, "") for sku, ctype in
                            BaseProduct.objects.non_polymorphic().filter(sku__in=skus)
                            .exclude(sku__in=self.existing).values_list("sku", "polymorphic_ctype_id")}
        # The default rate first, then as products.default_tax_rate() falls back: highest rate.
        self.tax_rates = list(TaxRate.objects.order_by("-is_default", "-rate", "id"))
        names = set(self.columns.values())
        self.categories = ({c.path: c for c in Category.objects.all()} if "category" in names else {})
        self.types = {t.name: t for t in ProductType.objects.prefetch_related("specs")}
        self.types_by_pk = {t.pk: t for t in self.types.values()}
        self.projects = ({p.slug: p for p in Project.objects.all()} if self.kind == "lot" else {})
        self.vins: dict[str, str] = {}
        self.lots: dict[tuple[int, str], str] = {}
        if self.kind == "vehicle":
            self.vins = dict(Vehicle.objects.values_list("vin", "sku"))
        if self.kind == "lot":
            self.lots = {(project_id, number): sku for project_id, number, sku in
                         RealEstateLot.objects.values_list("project_id", "lot_number", "sku")}

    def validate(self, records: list[tuple[int, list[str]]], *,
                 progress: ImportProgress) -> list[_Row]:
        self.report.rows = len(records)
        self._load(records)
        named = set(self.columns) | set(self.specs)
        rows: list[_Row] = []
        first_line: dict[str, dict[Any, int]] = {"sku": {}, "vin": {}, "lot": {}}
        for done, (line, cells) in enumerate(records):
            progress.advance(done)
            problems: list[str] = []
            stray = [index + 1 for index, cell in enumerate(cells)
                     if index not in named and cell.strip()]
            if stray:
                # Never drop what someone typed: a value under no column name is an error.
                problems.append(_("column %(number)d has a value but no name in the header line")
                                % {"number": stray[0]})
            row = self._row(line, cells, problems)
            if row is not None:
                self._unique(row, first_line, problems)
            for problem in problems:
                self.report.errors.append(ImportProblem(line, problem))
            if row is not None and not problems:
                rows.append(row)
        return rows

    def _row(self, line: int, cells: list[str], problems: list[str]) -> _Row | None:
        values = {column: _cell(cells, index) for index, column in self.columns.items()
                  if column != "sku"}
        sku = self._sku(cells)
        if not sku:
            problems.append(_("sku is required"))
            return None
        if sku in self.other_kinds:
            problems.append(_("sku “%(sku)s” is a product of another kind (%(kind)s): it cannot "
                              "become a %(this)s") % {"sku": sku, "kind": self.other_kinds[sku],
                                                      "this": self.kind})
            return None
        existing = self.existing.get(sku)
        data: dict[str, Any] = {"sku": sku}
        failed: set[str] = set()  # columns already reported: not checked again below
        status = initial_stock = None
        for column, raw in values.items():
            try:
                if column == "status":
                    status = self._status(raw)
                elif column == "stock":
                    initial_stock = self._stock(line, raw, existing)
                elif column not in EXPORT_ONLY:
                    value = self._value(column, raw)
                    if value is not _KEEP:
                        data[column] = value
            except _CellError as exc:
                problems.append(str(exc))
                failed.add(column)
        if existing is None:
            if "tax_rate" not in data and self.tax_rates:
                data["tax_rate"] = self.tax_rates[0]  # the service's default, without its query
            if data.get("tax_rate") is None and "tax_rate" not in failed:
                problems.append(_("%(column)s is required") % {"column": "tax_rate"})
                failed.add("tax_rate")
            for column in self._required:
                if column not in data and column not in failed:
                    problems.append(_("%(column)s is required") % {"column": column})
                    failed.add(column)
        if "product_type" not in failed:
            self._specs(cells, existing, data, problems)
        if "vin" in data:
            data["vin"] = data["vin"].upper()
            problem = vin_problem(data["vin"])
            if problem:
                problems.append(_("vin “%(value)s”: %(problem)s") % {"value": data["vin"],
                                                                       "problem": problem})
                failed.add("vin")
        if "description" in data:
            # As the service will store it, so an unchanged line compares equal.
            data["description"] = sanitize_description(data["description"])
        candidate = self._clean_fields(existing, data, failed, problems)
        changed = existing is None or any(
            getattr(existing, f.attname) != getattr(candidate, f.attname)
            for f in self.model._meta.concrete_fields)
        return _Row(line=line, sku=sku, existing=existing, data=data, status=status,
                    initial_stock=initial_stock, product=candidate, changed=changed)

    def _sku(self, cells: list[str]) -> str:
        return _text_in(_cell(cells, self.sku_index).strip())

    @cached_property
    def _required(self) -> list[str]:
        """Columns a new product cannot do without."""
        required = []
        for column in csv_columns(kind=self.kind, codes=()):
            if column in _SPECIAL or column == "tax_rate":
                continue
            f = self.model._meta.get_field(column)
            if not (f.null or f.blank or f.has_default()):
                required.append(column)
        return required

    def _value(self, column: str, raw: str) -> Any:
        text = raw.strip()
        if column == "tax_rate":
            return self._tax_rate(text) if text else _KEEP
        lookups = {"category": self.categories, "product_type": self.types,
                   "project": self.projects}
        if column in lookups:
            key = _text_in(text).strip("/") if column == "category" else _text_in(text)
            if not key:
                if column == "project":
                    raise _CellError(_("%(column)s is required") % {"column": column})
                return None
            found = lookups[column].get(key)
            if found is None:
                raise _CellError(_("%(column)s “%(value)s” does not exist")
                                 % {"column": column, "value": text})
            return found
        f = self.model._meta.get_field(column)
        if not text:
            if f.null:
                return None
            if f.has_default():
                return _KEEP
            if f.blank:
                return ""
            raise _CellError(_("%(column)s is required") % {"column": column})
        if f.choices:
            return _choice(column, text, f.choices)
        if isinstance(f, models.DecimalField):
            return _decimal(column, text)
        if isinstance(f, models.IntegerField):
            return _integer(column, text)
        return _text_in(text)

    def _tax_rate(self, text: str) -> TaxRate:
        rate = _decimal("tax_rate", text.rstrip("%").strip())
        for tax_rate in self.tax_rates:
            if tax_rate.rate == rate:
                return tax_rate
        known = ", ".join(f"{t.rate.normalize():f}" for t in self.tax_rates)
        raise _CellError(_("tax_rate “%(value)s” is not one of the shop's VAT rates (%(rates)s)")
                         % {"value": text, "rates": known})

    @staticmethod
    def _status(raw: str) -> str | None:
        text = raw.strip()
        return _choice("status", text, ProductStatus.choices) if text else None

    def _stock(self, line: int, raw: str, existing: BaseProduct | None) -> Decimal | None:
        text = raw.strip()
        if not text:
            return None
        quantity = _decimal("stock", text)
        if quantity < 0:
            raise _CellError(_("stock “%(value)s” cannot be negative") % {"value": text})
        if quantity.as_tuple().exponent < -3:
            raise _CellError(_("stock “%(value)s” has more than 3 decimals") % {"value": text})
        if existing is not None:
            level = getattr(existing, "stock", None)
            if level is not None and level.on_hand != quantity:
                self.report.warnings.append(ImportProblem(line, _(
                    "stock is not changed by an import for an existing product (it stays "
                    "%(on_hand)s): record a receipt or an adjustment instead")
                    % {"on_hand": f"{level.on_hand.normalize():f}"}))
            return None
        return quantity or None

    def _specs(self, cells: list[str], existing: BaseProduct | None, data: dict[str, Any],
               problems: list[str]) -> None:
        if "product_type" in data:
            product_type = data["product_type"]
        elif existing is not None and existing.product_type_id:
            product_type = self.types_by_pk.get(existing.product_type_id)
        else:
            product_type = None
        data["product_type"] = product_type
        same_type = existing is not None and existing.product_type_id == (
            product_type.pk if product_type else None)
        defined = {d.code for d in product_type.specs.all()} if product_type else set()
        # Values of specifications the type no longer defines are dropped: no column can fix them.
        specs = ({code: value for code, value in (existing.specs or {}).items() if code in defined}
                 if same_type else {})
        for index, code in self.specs.items():
            value = _text_in(_cell(cells, index).strip())
            if not value:
                specs.pop(code, None)
            elif code in defined:
                specs[code] = value
            elif product_type is None:
                problems.append(_("%(column)s: choose a product_type to give specifications")
                                % {"column": f"{SPEC_PREFIX}{code}"})
            else:
                problems.append(_("%(column)s: product type “%(type)s” has no such specification")
                                % {"column": f"{SPEC_PREFIX}{code}", "type": product_type.name})
        try:
            data["specs"] = specs_clean(product_type, specs)
        except CatalogError as exc:
            problems.append(exc.message)

    def _clean_fields(self, existing: BaseProduct | None, data: dict[str, Any], failed: set[str],
                      problems: list[str]) -> BaseProduct:
        """The model's own field checks (lengths, digits, ranges) on what the row would save;
        returns the product as it would be saved."""
        candidate = copy.copy(existing) if existing is not None else self.model()
        for name, value in data.items():
            setattr(candidate, name, value)
        exclude = {f.name for f in self.model._meta.concrete_fields if f.is_relation}
        exclude |= _NOT_CLEANED | failed
        try:
            candidate.clean_fields(exclude=exclude)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                value = str(data.get(name, getattr(candidate, name, "")))
                shown = value if len(value) <= 40 else f"{value[:40]}…"
                for message in messages:
                    problems.append(_("%(column)s “%(value)s”: %(reason)s")
                                    % {"column": name, "value": shown, "reason": message})
        return candidate

    def _unique(self, row: _Row, first_line: dict[str, dict[Any, int]],
                problems: list[str]) -> None:
        """Within the file, and against other products in the shop."""
        seen = first_line["sku"].setdefault(row.sku, row.line)
        if seen != row.line:
            problems.append(_("sku “%(sku)s” is also on line %(first)d: give each product one "
                              "line") % {"sku": row.sku, "first": seen})
        vin = row.data.get("vin")
        if vin:
            seen = first_line["vin"].setdefault(vin, row.line)
            owner = self.vins.get(vin)
            if seen != row.line:
                problems.append(_("vin “%(vin)s” is also on line %(first)d")
                                % {"vin": vin, "first": seen})
            elif owner is not None and owner != row.sku:
                problems.append(_("vin “%(vin)s” belongs to another vehicle (%(sku)s)")
                                % {"vin": vin, "sku": owner})
        if self.kind == "lot":
            project = row.data.get("project") or (row.existing.project if row.existing else None)
            number = row.data.get("lot_number") or (row.existing.lot_number if row.existing
                                                    else None)
            if project is not None and number:
                key = (project.pk, number)
                seen = first_line["lot"].setdefault(key, row.line)
                owner = self.lots.get(key)
                if seen != row.line:
                    problems.append(_("lot_number “%(number)s” of %(project)s is also on line "
                                      "%(first)d") % {"number": number, "project": project.slug,
                                                      "first": seen})
                elif owner is not None and owner != row.sku:
                    problems.append(_("lot_number “%(number)s” of %(project)s belongs to another "
                                      "lot (%(sku)s)") % {"number": number,
                                                          "project": project.slug, "sku": owner})


def _check_plan_limit(rows: list[_Row], report: ImportReport) -> None:
    """The plan's limit of active products, line by line as the file would change the count
    (a new product or a restored one adds one, an archived one frees one): refused at the
    first line that exceeds it, as product_create and product_restore would."""
    plan = getattr(connection.tenant, "plan", None)
    if plan is None:
        return
    active = BaseProduct.objects.exclude(status=ProductStatus.ARCHIVED).count()
    for row in rows:
        was_active = row.existing is not None and row.existing.status != ProductStatus.ARCHIVED
        if row.existing is None:
            adds = row.status != ProductStatus.ARCHIVED
        else:
            adds = not was_active and row.status == ProductStatus.ACTIVE
        if adds and active + 1 > plan.max_products:
            # The services' own message (one translation).
            report.errors.append(ImportProblem(row.line, _(
                "Your plan allows %(max)d active products and you have %(count)d. Archive some "
                "or upgrade your plan.") % {"max": plan.max_products, "count": active}))
            return
        if adds:
            active += 1
        elif was_active and row.status == ProductStatus.ARCHIVED:
            active -= 1


def _write_all(rows: list[_Row], *, model: type[BaseProduct], by: User | None,
               report: ImportReport, progress: ImportProgress) -> None:
    """Write validated rows in bulk, in file order, a chunk at a time.

    What product_create / product_update would check was checked for the whole file by the
    validation (fields, specifications, VIN, uniqueness in the file and in the shop, the plan
    limit); what they would write is written here set-based: new products (base and kind
    tables), their stock levels and "Initial stock" receipts, and the changed columns of
    existing products. Lines that change nothing are not written (an export imported back
    costs no writes); they still count as updated: the product matches the file."""
    progress.phase(ImportState.IMPORTING, total=len(rows))
    by = by if by is not None and by.pk else None
    new_rows = [row for row in rows if row.existing is None]
    taken_slugs = set(BaseProduct.objects.values_list("slug", flat=True)) if new_rows else set()
    ctype = ContentType.objects.get_for_model(model, for_concrete_model=False)
    _lock_existing([row for row in rows if row.existing is not None
                    and (row.changed or row.status is not None)], model=model)
    for start in range(0, len(rows), WRITE_CHUNK):
        chunk = rows[start:start + WRITE_CHUNK]
        _insert_new([row for row in chunk if row.existing is None], model=model, ctype=ctype,
                    taken_slugs=taken_slugs, by=by)
        _update_changed([row for row in chunk if row.existing is not None and row.changed],
                        model=model)
        progress.advance(start + len(chunk))
    report.created = len(new_rows)
    report.updated = len(rows) - len(new_rows)
    # Status changes through their services, archives first: a restore then finds the room
    # the plan check counted on.
    to_archive = [row.product.pk for row in rows if row.existing is not None
                  and row.status == ProductStatus.ARCHIVED
                  and row.existing.status != ProductStatus.ARCHIVED]
    if to_archive:
        products_archive(product_ids=to_archive, by=by)
    for row in rows:
        if (row.existing is not None and row.status == ProductStatus.ACTIVE
                and row.existing.status == ProductStatus.ARCHIVED):
            try:
                product_restore(product=row.product, by=by)
            except CatalogError as exc:
                raise _RowFailed(row.line, exc.message) from exc
    catalog_cache_bump()  # bulk writes send no post_save: the storefront cache must know


def _insert_new(rows: list[_Row], *, model: type[BaseProduct], ctype: ContentType,
                taken_slugs: set[str], by: User | None) -> None:
    if not rows:
        return
    products = []
    for row in rows:
        product = row.product
        product.slug = _free_slug(product.name, taken_slugs)
        product.polymorphic_ctype = ctype
        product.status = (ProductStatus.ARCHIVED if row.status == ProductStatus.ARCHIVED
                          else ProductStatus.ACTIVE)
        products.append(product)
    # Django's bulk_create refuses multi-table children: the base rows go through it (ids
    # returned), the kind's own table through _insert_subclass_rows.
    base_fields = [f for f in BaseProduct._meta.concrete_fields if not f.primary_key]
    bases = BaseProduct.objects.bulk_create([
        BaseProduct(**{f.attname: getattr(product, f.attname) for f in base_fields})
        for product in products])
    for product, base in zip(products, bases, strict=True):
        product.id = product.pk = base.pk
        product.updated_at = base.updated_at
        product._state.adding = False
        product._state.db = base._state.db
    _insert_subclass_rows(model, products)
    if model.STOCKED:
        # New rows, invisible to anyone until the commit: nothing to lock. Each level starts
        # at its receipt, so on hand equals the sum of the movements (stock_audit).
        StockLevel.objects.bulk_create([
            StockLevel(product_id=row.product.pk, on_hand=row.initial_stock or Decimal("0"))
            for row in rows])
        StockMovement.objects.bulk_create([
            StockMovement(product_id=row.product.pk, kind=MovementKind.RECEIPT,
                          on_hand_delta=row.initial_stock, by=by, reason=_("Initial stock"))
            for row in rows if row.initial_stock])


def _insert_subclass_rows(model: type[BaseProduct], products: list[BaseProduct]) -> None:
    """The kind's own table (its link to the base row and its fields), one statement."""
    fields = model._meta.local_concrete_fields
    quote = connection.ops.quote_name
    row_placeholder = f"({', '.join(['%s'] * len(fields))})"
    sql = (f"INSERT INTO {quote(model._meta.db_table)} "  # noqa: S608 (quoted names, %s values)
           f"({', '.join(quote(f.column) for f in fields)}) "
           f"VALUES {', '.join([row_placeholder] * len(products))}")
    params = [f.get_db_prep_save(f.pre_save(product, True), connection)
              for product in products for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _lock_existing(rows: list[_Row], *, model: type[BaseProduct]) -> None:
    """Every product the file will change, locked before the first write, in id order, kind
    and base tables both, as the stock services lock lots: two imports (or an import and a
    sale) touching the same products wait for each other instead of deadlocking."""
    if not rows:
        return
    parents = [f.name for f in model._meta.local_concrete_fields if f.one_to_one and f.primary_key]
    list(model.objects.select_for_update(of=("self", *parents))
         .filter(pk__in=[row.product.pk for row in rows]).order_by("pk").only("pk", "sku"))


def _update_changed(rows: list[_Row], *, model: type[BaseProduct]) -> None:
    """The columns the file gives, for the chunk's changed products: one UPDATE ... FROM
    (VALUES ...) per table. (Django's bulk_update builds a CASE WHEN per row and column:
    seconds of Python for a few thousand lines.)"""
    if not rows:
        return
    editable = {f.name for f in model._meta.concrete_fields} - {
        "id", "baseproduct_ptr", "polymorphic_ctype", "slug", "status", "availability",
        "option_expires_at", "created_at", "updated_at"}
    # Only the columns the file gives: a column it leaves out keeps what is stored, even if
    # someone changed it since the validation read it.
    names = sorted({name for row in rows for name in row.data} & editable) + ["updated_at"]
    tables: dict[type[models.Model], list[models.Field]] = {}
    for name in names:
        f = model._meta.get_field(name)
        tables.setdefault(f.model, []).append(f)  # the base table or the kind's own
    products = [row.product for row in rows]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for owner, fields in tables.items():
            key = owner._meta.pk.column  # "id", or the kind's link to its base row
            columns = ", ".join(quote(c) for c in [key, *(f.column for f in fields)])
            # Casts: a VALUES column takes its type from its values (text for strings, none
            # for NULLs), the table's column has its own.
            sets = ", ".join(f"{quote(f.column)} = v.{quote(f.column)}::"
                             f"{f.cast_db_type(connection)}" for f in fields)
            row_placeholder = f"({', '.join(['%s'] * (len(fields) + 1))})"
            values = ", ".join([row_placeholder] * len(products))
            params: list[Any] = []
            for product in products:
                params.append(product.pk)
                params.extend(f.get_db_prep_save(f.pre_save(product, False), connection)
                              for f in fields)
            cursor.execute(
                f"UPDATE {quote(owner._meta.db_table)} AS t SET {sets} "  # noqa: S608 (quoted)
                f"FROM (VALUES {values}) AS v ({columns}) "
                f"WHERE t.{quote(key)} = v.{quote(key)}", params)


def _free_slug(name: str, taken: set[str]) -> str:
    """products._unique_slug against slugs loaded once (and those this file takes)."""
    root = (slugify(name) or "product")[:200]
    slug, n = root, 2
    while slug in taken:
        slug, n = f"{root}-{n}", n + 1
    taken.add(slug)
    return slug


def _cell(cells: list[str], index: int) -> str:
    return cells[index] if index < len(cells) else ""


def _decimal(column: str, text: str) -> Decimal:
    """Accepts "1234.5", "1234,5" (French Excel) and thousands separators ("1 234,50",
    "1,234.50"): the last of "," and "." is the decimal mark."""
    cleaned = _SPACES.sub("", text)
    if "," in cleaned and "." in cleaned:
        mark = "," if cleaned.rfind(",") > cleaned.rfind(".") else "."
        cleaned = cleaned.replace("." if mark == "," else ",", "")
    cleaned = cleaned.replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise _CellError(_("%(column)s “%(value)s” is not a number")
                         % {"column": column, "value": text})
    return value


def _integer(column: str, text: str) -> int:
    try:
        value = _decimal(column, text)
    except _CellError:
        value = None
    if value is None or value != value.to_integral_value():
        raise _CellError(_("%(column)s “%(value)s” is not a whole number")
                         % {"column": column, "value": text})
    return int(value)


def _choice(column: str, text: str, choices) -> str:
    wanted = text.casefold()
    # Codes first: most files carry them (exports do), and a label is a lazy translation,
    # costly to render on every line.
    for value, _label in choices:
        if wanted == str(value).casefold():
            return value
    for value, label in choices:
        if wanted == str(label).casefold():
            return value
    raise _CellError(_("%(column)s “%(value)s” is not one of: %(choices)s")
                     % {"column": column, "value": text,
                        "choices": ", ".join(str(value) for value, _label in choices)})


# --- background jobs (the dashboard's imports) ----------------------------------------------------

@transaction.atomic
def import_job_create(*, kind: str, file, by: User | None, language: str = "") -> ImportJob:
    """Store an uploaded file as a queued import and start it once this transaction commits.
    Refused (CatalogError on `file`) beyond the size limit: the file is never stored then."""
    _model(kind)
    content = _read_bounded(file)
    name = os.path.basename(getattr(file, "name", "") or "") or "products.csv"
    job = ImportJob.objects.create(
        kind=kind, file_name=name[-255:], content=content,
        created_by=by if by is not None and by.pk else None,
        language=language or translation.get_language() or settings.LANGUAGE_CODE)
    # The shop itself, not just its schema name: the run needs its plan (the product limit).
    transaction.on_commit(partial(_import_job_start, job_id=job.pk, shop=connection.tenant))
    return job


def _import_job_start(*, job_id: int, shop: Shop) -> None:
    """A Celery task with a broker; without one (a fresh machine), a daemon thread: Celery
    would run the task eagerly, inside the upload's request, for as long as the import takes."""
    if settings.CELERY_BROKER_URL:
        from catalog.tasks import import_job_run_task  # tasks import services: avoid the cycle

        with tenant_context(shop):  # tenant-schemas-celery queues it for this shop's schema
            import_job_run_task.delay(job_id)
        return

    def run() -> None:
        try:
            with tenant_context(shop):
                import_job_run(job_id=job_id)
        finally:
            connection.close()  # this thread's own connection

    threading.Thread(target=run, name=f"csv-import-{job_id}", daemon=True).start()


def import_job_run(*, job_id: int) -> ImportJob:
    """Run a queued import in the current shop's schema: validate, then write in one
    transaction, or record every problem found. A job already taken (a task delivered twice)
    is left alone.

    Not one transaction, on purpose: taking the job commits at once, so the page shows that
    it started; the import is one transaction, its outcome ("done" and the counts) written in
    it; a refusal or a crash is recorded after the rollback."""
    now = timezone.now()
    if not ImportJob.objects.filter(pk=job_id, state=ImportState.QUEUED).update(
            state=ImportState.VALIDATING, started_at=now, updated_at=now):
        return ImportJob.objects.defer("content").get(pk=job_id)
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    progress = _JobProgress(job)
    try:
        with translation.override(job.language or settings.LANGUAGE_CODE):
            with transaction.atomic():
                report = products_import_csv(kind=job.kind, file=io.BytesIO(bytes(job.content)),
                                             by=job.created_by, progress=progress)
                # No more progress from the other connection: this one may now lock the row.
                progress.close()
                if report.ok:
                    _import_job_end(job, report)
            if not report.ok:
                _import_job_end(job, report)
            return job
    except Exception:
        # Recorded, then raised again for the worker's log: the page must not say "importing"
        # forever. The import's transaction is rolled back: nothing was imported.
        progress.close()
        _import_job_end(job, ImportReport(kind=job.kind, errors=[ImportProblem(None, _(
            "The import stopped on an unexpected error: nothing was imported. Try again; if it "
            "happens again, contact support."))]))
        raise
    finally:
        progress.close()


def _import_job_end(job: ImportJob, report: ImportReport) -> None:
    job.state = ImportState.DONE if report.ok else ImportState.FAILED
    job.total_rows = report.rows
    job.processed_rows = report.rows if report.ok else 0
    job.created_count, job.updated_count = report.created, report.updated
    job.errors = [{"line": p.line, "message": p.message} for p in report.errors]
    job.warnings = [{"line": p.line, "message": p.message} for p in report.warnings]
    job.content = b""  # the file is not needed any more: no megabytes kept per import
    job.finished_at = timezone.now()
    job.save(update_fields=["state", "total_rows", "processed_rows", "created_count",
                            "updated_count", "errors", "warnings", "content", "finished_at",
                            "updated_at"])


class _JobProgress(ImportProgress):
    """Publishes a job's progress through a second database connection, in autocommit: the
    import's own transaction stays open until the last line is written, and whatever it
    writes (the job row included) is invisible to other requests until then. Publishing is
    throttled (PUBLISH_EVERY), one small UPDATE each time. The import's connection never
    writes the job row while this one is open (close() first), so they never wait on
    each other."""

    def __init__(self, job: ImportJob):
        self.job_id = job.pk
        quote = connection.ops.quote_name
        self.table = f"{quote(connection.schema_name)}.{quote(ImportJob._meta.db_table)}"
        self.state, self.total = job.state, job.total_rows
        self._connection = None
        self._published_at = 0.0

    def phase(self, state: str, *, total: int) -> None:
        self.state, self.total = state, total
        self._publish(0)

    def advance(self, processed: int) -> None:
        if time.monotonic() - self._published_at >= PUBLISH_EVERY:
            self._publish(processed)

    def _publish(self, processed: int) -> None:
        if self._connection is None:
            self._connection = connection.copy()
        with self._connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {self.table} SET state = %s, total_rows = %s, "  # noqa: S608 (quoted)
                "processed_rows = %s, updated_at = %s WHERE id = %s",
                [self.state, self.total, processed, timezone.now(), self.job_id])
        self._published_at = time.monotonic()

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


# --- reads for the pages (catalog/selectors.py is the usual home; these serve only csv_io) --------

def import_jobs_recent(*, limit: int = RECENT_JOBS) -> QuerySet[ImportJob]:
    """The shop's latest imports, newest first, without their files."""
    return ImportJob.objects.defer("content").select_related("created_by")[:limit]


def import_job_get(*, pk: int) -> ImportJob | None:
    return ImportJob.objects.defer("content").select_related("created_by").filter(pk=pk).first()
