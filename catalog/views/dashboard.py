"""Dashboard pages for the catalog: products per kind, stock, categories, types, programmes."""

from __future__ import annotations

from html import escape
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import numberformat
from django.utils.formats import get_format
from django.utils.functional import SimpleLazyObject
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from catalog.errors import CatalogError
from catalog.forms import (
    FORMS_BY_KIND,
    PRODUCT_SORTS,
    CategoryForm,
    ProductFilterForm,
    ProductTypeForm,
    ProjectForm,
    SpecDefinitionForm,
    StockAdjustForm,
    StockReceiveForm,
)
from catalog.models import (
    PRODUCT_KINDS,
    BaseProduct,
    Category,
    LotAvailability,
    ProductImage,
    ProductStatus,
    ProductType,
    Project,
    SpecDefinition,
)
from catalog.pricing import currency_symbol, gross
from catalog.selectors import (
    categories_tree,
    category_choices,
    lot_availability_counts,
    low_stock,
    product_get,
    product_page_for_dashboard,
    project_lots,
    projects_list,
    stock_movements_for,
)
from catalog.services.categories import (
    category_delete,
    category_save,
    product_type_save,
    spec_definition_add,
    spec_definition_delete,
)
from catalog.services.products import (
    product_create,
    product_duplicate,
    product_restore,
    product_update,
    products_archive,
)
from catalog.services.projects import project_save
from catalog.services.stock import stock_adjust, stock_receive
from tenants.accounts.views import staff_required
from tenants.pagination import PER_PAGE, paginate

KIND_CHOICES = [
    ("goods", gettext_lazy("Goods"),
     gettext_lazy("Stocked items: shipped from your stock, with a movement ledger.")),
    ("service", gettext_lazy("Service"),
     gettext_lazy("Sold by the hour, the day or the unit; never stocked.")),
    ("lot", gettext_lazy("Real-estate lot"),
     gettext_lazy("A unique lot of a programme: available, optioned, reserved, sold.")),
    ("vehicle", gettext_lazy("Vehicle"),
     gettext_lazy("A car or van with its make, model, year, mileage and VIN.")),
]


def _form_error(form, exc: CatalogError) -> None:
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)


# ---------------------------------------------------------------------------------------------
# Product list
# ---------------------------------------------------------------------------------------------
@require_GET
@staff_required("catalog.view_baseproduct")
def product_list(request: HttpRequest) -> HttpResponse:
    form = ProductFilterForm(request.GET or None, categories=category_choices())
    data = form.cleaned_data if form.is_valid() else {}
    sort = data.get("sort") or "name"
    number = data.get("page") or 1
    products = product_page_for_dashboard(
        q=data.get("q", ""), kind=data.get("kind", ""), category=data.get("category"),
        status=data.get("status", ""), stock_state=data.get("stock", ""),
        sort=PRODUCT_SORTS[sort], page=number, per_page=PER_PAGE,
    )
    page = paginate(products, page=number, query=request.GET, per_page=PER_PAGE)
    can_edit = request.user.has_perm("catalog.change_baseproduct")
    words = _RowWords.current()
    currency = request.tenant.currency
    rows = [_row(p, words, currency=currency, can_edit=can_edit) for p in page.items]
    context = {"form": form, "selects": form.selects(), "page": page, "rows": rows, "sort": sort,
               "sort_links": _sort_links(request.GET, sort), "can_edit": can_edit}
    template = "catalog/dashboard/product_list.html"
    if request.htmx and request.htmx.target == "product-table":
        template += "#product-table"
    return render(request, template, context)


def _sort_links(query: QueryDict, sort: str) -> dict[str, dict[str, str]]:
    """The sortable headers' links (the same filters, first page) and arrows."""
    keep = urlencode([(k, v) for k, v in query.items() if k not in ("sort", "page")])
    links = {}
    for column in ("name", "sku", "price"):
        target = f"-{column}" if sort == column else column
        links[column] = {"url": f"?{keep}&sort={target}" if keep else f"?sort={target}",
                         "arrow": " ▲" if sort == column else " ▼" if sort == f"-{column}" else ""}
    return links


# One reverse() per page instead of one per row.
_PRODUCT_URL_PREFIX = SimpleLazyObject(
    lambda: reverse("catalog_dashboard:product_detail", args=[0])[:-2])


class _RowWords:
    """What rows repeat, looked up once per language (translations and formats do not change
    while the process runs): labels, the number format, the media storage (whose URLs follow
    the current shop when asked)."""

    _by_language: dict[str, _RowWords] = {}

    @classmethod
    def current(cls) -> _RowWords:
        language = get_language()
        words = cls._by_language.get(language)
        if words is None:
            words = cls._by_language[language] = cls()
        return words

    def __init__(self) -> None:
        self.kinds = {kind: str(model.KIND_LABEL) for kind, model in PRODUCT_KINDS.items()}
        self.statuses = {value: str(label) for value, label in ProductStatus.choices}
        self.availability = {value: str(label) for value, label in LotAvailability.choices}
        self.out_of_stock = _("Out of stock")
        self.available = _("available")
        self.select = _("Select %(name)s")
        self.storage = ProductImage._meta.get_field("image").storage
        language = get_language()
        self.decimal_sep = get_format("DECIMAL_SEPARATOR", language)
        self.thousand_sep = get_format("THOUSAND_SEPARATOR", language)
        self.grouping = get_format("NUMBER_GROUPING", language)

    def number(self, value, decimal_pos: int | None = None, *, grouped: bool = False) -> str:
        """As django.utils.formats.number_format(value, decimal_pos, force_grouping=grouped)."""
        return numberformat.format(value, self.decimal_sep, decimal_pos, self.grouping,
                                   self.thousand_sep, force_grouping=grouped)


def _row(product: dict, words: _RowWords, *, currency: str, can_edit: bool) -> dict:
    """Everything a list row prints, and the row itself as HTML (`html`).

    The row's markup is written here rather than in the template: it is the hottest markup of
    the dashboard (25 rows of a dozen cells), and the template engine spent more time on it
    than on the rest of the page. Every value goes through `escape`; the template keeps the
    table around the rows."""
    kind = product["kind"]
    stock_text, stock_class = "", ""
    if PRODUCT_KINDS[kind].STOCKED and product["on_hand"] is not None:
        free = product["on_hand"] - product["reserved"]
        stock_text = (words.out_of_stock if free <= 0
                      else f"{words.number(free.normalize())} {words.available}")
        stock_class = "stock-level stock-out" if free <= 0 else "stock-level"
    elif kind == "lot" and product["availability"]:
        availability = product["availability"]
        stock_text = words.availability.get(availability, availability)
        stock_class = f"badge badge-{availability}"
    image = product["main_image"]
    row = {
        "pk": product["pk"],
        "url": f"{_PRODUCT_URL_PREFIX}{product['pk']}/",
        "name": product["name"],
        "sku": product["sku"],
        "category": product["category_name"] or "",
        "select_label": words.select % {"name": product["name"]},
        "kind": kind,
        "kind_label": words.kinds[kind],
        "gross": words.number(gross(product["net_price"], product["tax_rate"], currency), 2,
                              grouped=True),
        "currency": currency_symbol(currency),
        "stock_text": stock_text,
        "stock_class": stock_class,
        "status": product["status"],
        "status_label": words.statuses.get(product["status"], product["status"]),
        "image_url": words.storage.url(image) if image else "",
    }
    row["html"] = _row_html(row, can_edit=can_edit)
    return row


def _row_html(row: dict, *, can_edit: bool) -> SafeString:
    e = escape  # the standard library's: what django.utils.html.escape does, without its wrappers
    select = (f'<td><input type="checkbox" name="ids" value="{row["pk"]}" '
              f'aria-label="{e(row["select_label"])}"></td>' if can_edit else "")
    image = (f'<img src="{e(row["image_url"])}" alt="" width="40" height="40" class="thumb">'
             if row["image_url"] else "")
    category = (f'<br><span class="muted small">{e(row["category"])}</span>'
                if row["category"] else "")
    stock = (f'<span class="{e(row["stock_class"])}">{e(row["stock_text"])}</span>'
             if row["stock_text"] else '<span class="muted">—</span>')
    return mark_safe(  # noqa: S308 - every value above is escaped
        f'<tr>{select}<td class="product-cell">{image}<a href="{e(row["url"])}">{e(row["name"])}</a>'
        f'{category}</td><td><code>{e(row["sku"])}</code></td><td>{e(row["kind_label"])}</td>'
        f'<td class="num">{e(row["gross"])}&nbsp;{e(row["currency"])}</td><td>{stock}</td>'
        f'<td><span class="badge badge-{e(row["status"])}">{e(row["status_label"])}</span></td></tr>')


@require_POST
@staff_required("catalog.change_baseproduct")
def product_bulk_archive(request: HttpRequest) -> HttpResponse:
    ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
    if not ids:
        messages.warning(request, _("Tick the products to archive first."))
    else:
        count = products_archive(product_ids=ids, by=request.user)
        messages.success(request, _("%(n)d product(s) archived.") % {"n": count})
    back = reverse("catalog_dashboard:product_list") + _query(request.POST.get("next_query", ""))
    if request.htmx:
        return HttpResponseClientRedirect(back)
    return redirect(back)


def _query(query: str) -> str:
    return f"?{query}" if query and not query.startswith("?") else query


# ---------------------------------------------------------------------------------------------
# Create / edit / duplicate / archive
# ---------------------------------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
@staff_required("catalog.add_baseproduct")
def product_new(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind") or request.POST.get("kind")
    if kind not in FORMS_BY_KIND:
        return render(request, "catalog/dashboard/product_kind.html", {"kinds": KIND_CHOICES})
    form = FORMS_BY_KIND[kind](request.POST or None,
                               initial={"project": request.GET.get("project")})
    if request.method == "POST" and form.is_valid():
        data = form.service_data()
        initial = data.pop("initial_stock", None)
        try:
            product = product_create(kind=kind, data=data, by=request.user, initial_stock=initial)
        except CatalogError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("%(name)s is in your catalog.") % {"name": product.name})
            return redirect("catalog_dashboard:product_detail", pk=product.pk)
    context = {"form": form, "kind": kind, "kind_label": PRODUCT_KINDS[kind].KIND_LABEL}
    return render(request, "catalog/dashboard/product_form.html", context,
                  status=422 if form.errors else 200)


def _product_or_404(pk: int) -> BaseProduct:
    product = product_get(pk=pk)
    if product is None:
        raise Http404(_("No such product."))
    return product


def _detail_context(request: HttpRequest, product: BaseProduct, **extra) -> dict:
    context = {
        "product": product,
        "movements": stock_movements_for(product=product, limit=20) if product.STOCKED else [],
        "adjust_form": StockAdjustForm(prefix="adjust"),
        "receive_form": StockReceiveForm(prefix="receive"),
        "can_edit": request.user.has_perm("catalog.change_baseproduct"),
        "can_adjust": request.user.has_perm("catalog.adjust_stock"),
        "images": product.images.all(),
    }
    context.update(extra)
    return context


@require_http_methods(["GET", "POST"])
@staff_required("catalog.view_baseproduct")
def product_detail(request: HttpRequest, pk: int) -> HttpResponse:
    product = _product_or_404(pk)
    form_class = FORMS_BY_KIND[product.KIND]
    if request.method == "POST":
        if not request.user.has_perm("catalog.change_baseproduct"):
            raise Http404
        form = form_class(request.POST, instance=product)
        if form.is_valid():
            try:
                product = product_update(product=product, data=form.service_data(),
                                         by=request.user)
            except CatalogError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("Changes saved."))
                return redirect("catalog_dashboard:product_detail", pk=product.pk)
    else:
        form = form_class(instance=product)
    return render(request, "catalog/dashboard/product_detail.html",
                  _detail_context(request, product, form=form),
                  status=422 if form.errors else 200)


@require_POST
@staff_required("catalog.add_baseproduct")
def product_duplicate_view(request: HttpRequest, pk: int) -> HttpResponse:
    product = _product_or_404(pk)
    try:
        copy = product_duplicate(product=product, by=request.user)
    except CatalogError as exc:
        messages.error(request, exc.message)
        return redirect("catalog_dashboard:product_detail", pk=product.pk)
    messages.success(request, _("Copy created: change what differs, then save."))
    return redirect("catalog_dashboard:product_detail", pk=copy.pk)


@require_POST
@staff_required("catalog.change_baseproduct")
def product_status_view(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    product = _product_or_404(pk)
    try:
        if action == "archive":
            products_archive(product_ids=[product.pk], by=request.user)
            messages.success(request, _("%(name)s is archived: hidden from the storefront.")
                             % {"name": product.name})
        elif action == "restore":
            product_restore(product=product, by=request.user)
            messages.success(request, _("%(name)s is active again.") % {"name": product.name})
        else:
            raise Http404
    except CatalogError as exc:
        messages.error(request, exc.message)
    return redirect("catalog_dashboard:product_detail", pk=product.pk)


# ---------------------------------------------------------------------------------------------
# Stock panel
# ---------------------------------------------------------------------------------------------
@require_POST
@staff_required("catalog.adjust_stock")
def stock_change(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    product = _product_or_404(pk)
    if not product.STOCKED:
        raise Http404(_("This product is not stocked."))
    adjust_form = StockAdjustForm(request.POST if action == "adjust" else None, prefix="adjust")
    receive_form = StockReceiveForm(request.POST if action == "receive" else None,
                                    prefix="receive")
    form = adjust_form if action == "adjust" else receive_form
    if action not in ("adjust", "receive"):
        raise Http404
    if form.is_valid():
        try:
            if action == "adjust":
                stock_adjust(product=product, counted=form.cleaned_data["counted"],
                             reason=form.cleaned_data["reason"], by=request.user)
            else:
                stock_receive(product=product, quantity=form.cleaned_data["quantity"],
                              reason=form.cleaned_data["reason"], by=request.user)
        except CatalogError as exc:
            field = exc.field if exc.field in form.fields else None
            form.add_error(field, exc.message)
        else:
            messages.success(request, _("Stock updated."))
            if not request.htmx:
                return redirect(reverse("catalog_dashboard:product_detail", args=[pk]) + "#stock")
            adjust_form = StockAdjustForm(prefix="adjust")
            receive_form = StockReceiveForm(prefix="receive")
    product = _product_or_404(pk)  # fresh level after the change
    context = _detail_context(request, product, adjust_form=adjust_form,
                              receive_form=receive_form)
    status = 422 if form.errors else 200
    if request.htmx:
        return render(request, "catalog/dashboard/product_detail.html#stock-panel", context,
                      status=status)
    context["form"] = FORMS_BY_KIND[product.KIND](instance=product)
    return render(request, "catalog/dashboard/product_detail.html", context, status=status)


# ---------------------------------------------------------------------------------------------
# Categories and product types
# ---------------------------------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
@staff_required("catalog.view_category")
def categories(request: HttpRequest) -> HttpResponse:
    form = CategoryForm(request.POST or None)
    if request.method == "POST":
        if not request.user.has_perm("catalog.add_category"):
            raise Http404
        if form.is_valid():
            try:
                category_save(name=form.cleaned_data["name"], parent=form.cleaned_data["parent"])
            except CatalogError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("Category added."))
                return redirect("catalog_dashboard:categories")
    context = {"form": form, "categories": categories_tree()}
    return render(request, "catalog/dashboard/categories.html", context,
                  status=422 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@staff_required("catalog.change_category")
def category_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Rename or move a category; the paths of its whole subtree follow."""
    category = Category.objects.filter(pk=pk).first()
    if category is None:
        raise Http404
    form = CategoryForm(request.POST or None,
                        initial={"name": category.name, "parent": category.parent_id})
    form.fields["parent"].queryset = Category.objects.exclude(pk=pk).order_by("path")
    if request.method == "POST" and form.is_valid():
        try:
            category_save(name=form.cleaned_data["name"], parent=form.cleaned_data["parent"],
                          category=category, position=category.position)
        except CatalogError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Category saved."))
            return redirect("catalog_dashboard:categories")
    return render(request, "catalog/dashboard/category_form.html",
                  {"form": form, "category": category}, status=422 if form.errors else 200)


@require_POST
@staff_required("catalog.delete_category")
def category_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    category = Category.objects.filter(pk=pk).first()
    if category is None:
        raise Http404
    try:
        category_delete(category=category)
    except CatalogError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Category deleted; its products are kept."))
    return redirect("catalog_dashboard:categories")


@require_http_methods(["GET", "POST"])
@staff_required("catalog.view_producttype")
def product_types(request: HttpRequest) -> HttpResponse:
    form = ProductTypeForm(request.POST or None)
    if request.method == "POST":
        if not request.user.has_perm("catalog.add_producttype"):
            raise Http404
        if form.is_valid():
            try:
                product_type = product_type_save(name=form.cleaned_data["name"])
            except CatalogError as exc:
                _form_error(form, exc)
            else:
                return redirect("catalog_dashboard:product_type", pk=product_type.pk)
    context = {"form": form, "types": ProductType.objects.prefetch_related("specs")}
    return render(request, "catalog/dashboard/product_types.html", context,
                  status=422 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@staff_required("catalog.view_producttype")
def product_type_detail(request: HttpRequest, pk: int) -> HttpResponse:
    product_type = ProductType.objects.prefetch_related("specs").filter(pk=pk).first()
    if product_type is None:
        raise Http404
    form = SpecDefinitionForm(request.POST or None)
    if request.method == "POST":
        if not request.user.has_perm("catalog.change_producttype"):
            raise Http404
        if form.is_valid():
            data = form.cleaned_data
            try:
                spec_definition_add(product_type=product_type, label=data["label"],
                                    kind=data["kind"], unit=data["unit"],
                                    choices=data["choices"].splitlines(),
                                    required=data["required"])
            except CatalogError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("Specification added."))
                return redirect("catalog_dashboard:product_type", pk=pk)
    context = {"product_type": product_type, "form": form,
               "used_by": product_type.products.count()}
    return render(request, "catalog/dashboard/product_type.html", context,
                  status=422 if form.errors else 200)


@require_POST
@staff_required("catalog.change_producttype")
def spec_delete_view(request: HttpRequest, pk: int, spec_pk: int) -> HttpResponse:
    definition = SpecDefinition.objects.filter(pk=spec_pk, product_type_id=pk).first()
    if definition is None:
        raise Http404
    spec_definition_delete(definition=definition)
    messages.success(request, _("Specification removed."))
    return redirect("catalog_dashboard:product_type", pk=pk)


# ---------------------------------------------------------------------------------------------
# Programmes (projects)
# ---------------------------------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
@staff_required("catalog.view_project")
def projects(request: HttpRequest) -> HttpResponse:
    form = ProjectForm(request.POST or None)
    if request.method == "POST":
        if not request.user.has_perm("catalog.add_project"):
            raise Http404
        if form.is_valid():
            try:
                project = project_save(data=form.cleaned_data, by=request.user)
            except CatalogError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("Programme created."))
                return redirect("catalog_dashboard:project", pk=project.pk)
    context = {"form": form, "projects": projects_list()}
    return render(request, "catalog/dashboard/projects.html", context,
                  status=422 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@staff_required("catalog.view_project")
def project_detail(request: HttpRequest, pk: int) -> HttpResponse:
    project = Project.objects.filter(pk=pk).first()
    if project is None:
        raise Http404
    form = ProjectForm(request.POST or None, instance=project)
    if request.method == "POST":
        if not request.user.has_perm("catalog.change_project"):
            raise Http404
        if form.is_valid():
            project_save(data=form.cleaned_data, project=project, by=request.user)
            messages.success(request, _("Changes saved."))
            return redirect("catalog_dashboard:project", pk=pk)
    lots = list(project_lots(project=project))
    floors: dict[int, list] = {}
    for lot in lots:
        floors.setdefault(lot.floor, []).append(lot)
    context = {
        "project": project, "form": form, "lots": lots,
        "floors": sorted(floors.items(), reverse=True),
        "counts": lot_availability_counts(project=project),
        "states": LotAvailability.choices,
    }
    return render(request, "catalog/dashboard/project.html", context,
                  status=422 if form.errors else 200)


# ---------------------------------------------------------------------------------------------
# Dashboard home contributions (declared on CatalogConfig)
# ---------------------------------------------------------------------------------------------
def low_stock_widget(request: HttpRequest) -> str:
    if not request.user.has_perm("catalog.view_stocklevel"):
        return ""
    return render_to_string("catalog/dashboard/_low_stock_widget.html",
                            {"levels": low_stock(limit=8)}, request=request)


def onboarding_steps(request: HttpRequest) -> list[dict]:
    return [{"label": _("Add your first product"),
             "done": BaseProduct.objects.exists(),
             "url": reverse("catalog_dashboard:product_new")}]

