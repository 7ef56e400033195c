"""Platform console (public schema, platform admins only): shops, plans, pool, audit."""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tenants.accounts.services import password_setup_email_send
from tenants.errors import ProvisioningError, SignupError, TenantsError
from tenants.forms import (
    SHOP_SORTS,
    ArchiveForm,
    ConsoleShopCreateForm,
    PlanChangeForm,
    ReasonForm,
    ShopFilterForm,
)
from tenants.models import AuditAction, Shop
from tenants.pagination import paginate
from tenants.selectors import audit_for, shop_get_for_console, shop_usage, shops_for_console
from tenants.services import (
    console_pool_fill,
    pool_size,
    shop_archive,
    shop_change_plan,
    shop_open,
    shop_reactivate,
    shop_suspend,
)
from tenants.urls_util import shop_url


def platform_admin_required(view):
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("console:login"))
        if not (user.is_active and user.is_staff):
            raise PermissionDenied(_("The platform console is for platform admins."))
        return view(request, *args, **kwargs)

    return wrapper


@require_GET
@platform_admin_required
def shop_list(request: HttpRequest) -> HttpResponse:
    form = ShopFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    sort = data.get("sort") or "-created"
    qs = shops_for_console(
        q=data.get("q", ""),
        status=data.get("status", ""),
        plan_code=data["plan"].code if data.get("plan") else "",
        sort=SHOP_SORTS[sort],
    )
    page = paginate(qs, page=data.get("page"), query=request.GET)
    context = {"form": form, "page": page, "sort": sort, "pool_ready": pool_size()}
    template = "tenants/console/shop_list.html"
    if request.htmx and request.htmx.target == "shop-table":
        template += "#shop-table"
    return render(request, template, context)


def _shop_or_404(pk: int) -> Shop:
    shop = shop_get_for_console(pk=pk)
    if shop is None:
        raise Http404(_("No such shop."))
    return shop


@require_GET
@platform_admin_required
def shop_detail(request: HttpRequest, pk: int) -> HttpResponse:
    shop = _shop_or_404(pk)
    context = {
        "shop": shop,
        "usage": shop_usage(shop=shop),
        "audit": audit_for(shop=shop, limit=20),
        "reason_form": ReasonForm(),
        "archive_form": ArchiveForm(auto_id="archive_%s"),
        "plan_form": PlanChangeForm(initial={"plan": shop.plan.code if shop.plan else None}),
        "shop_home": shop_url(request, shop.primary_domain.domain) if shop.primary_domain else "",
    }
    return render(request, "tenants/console/shop_detail.html", context)


TRANSITIONS = {
    "suspend": (shop_suspend,
                gettext_lazy("%(shop)s is suspended: its visitors, staff and API are refused.")),
    "reactivate": (shop_reactivate, gettext_lazy("%(shop)s is active again.")),
    "archive": (shop_archive, gettext_lazy("%(shop)s is archived. Its data is kept.")),
}


@require_POST
@platform_admin_required
def shop_transition(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    shop = _shop_or_404(pk)
    if action not in TRANSITIONS:
        raise Http404(_("No such action."))
    service, success = TRANSITIONS[action]
    form = (ArchiveForm if action == "archive" else ReasonForm)(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("console:shop_detail", pk=shop.pk)
    reason = form.cleaned_data["reason"]
    try:
        service(shop=shop, by=request.user, reason=reason)
    except TenantsError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, success % {"shop": shop.name})
    return redirect("console:shop_detail", pk=shop.pk)


@require_POST
@platform_admin_required
def shop_plan(request: HttpRequest, pk: int) -> HttpResponse:
    shop = _shop_or_404(pk)
    form = PlanChangeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a plan from the list."))
    else:
        try:
            shop_change_plan(shop=shop, plan=form.cleaned_data["plan"], by=request.user)
        except TenantsError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Plan changed to %(plan)s.") % {
                "plan": form.cleaned_data["plan"].name})
    return redirect("console:shop_detail", pk=shop.pk)


@require_http_methods(["GET", "POST"])
@platform_admin_required
def shop_create(request: HttpRequest) -> HttpResponse:
    form = ConsoleShopCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            opened = shop_open(
                name=data["name"],
                subdomain=data["subdomain"],
                owner_email=data["owner_email"],
                owner_password=None,
                plan=data["plan"],
                locale=data["locale"],
                by=request.user,
                action=AuditAction.SHOP_CREATED,
            )
        except SignupError as exc:
            form.add_error(exc.field, exc.message)
        except ProvisioningError as exc:
            form.add_error(None, str(exc))
        else:
            password_setup_email_send(
                shop=opened.shop, user_id=opened.owner_id,
                base_url=shop_url(request, opened.domain.domain, ""),
            )
            messages.success(
                request,
                _("%(shop)s is open at %(domain)s. %(email)s was sent a link to set a password.")
                % {"shop": opened.shop.name, "domain": opened.domain.domain,
                   "email": data["owner_email"]},
            )
            return redirect("console:shop_detail", pk=opened.shop.pk)
    status = 422 if form.errors else 200
    return render(request, "tenants/console/shop_form.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
@platform_admin_required
def pool(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            created = console_pool_fill(by=request.user)
        except ProvisioningError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, ngettext("%(n)d ready shop created.",
                                               "%(n)d ready shops created.", created) % {"n": created})
        return redirect("console:pool")
    context = {"ready": pool_size(), "target": settings.SHOP_POOL_SIZE}
    return render(request, "tenants/console/pool.html", context)


@require_GET
@platform_admin_required
def audit(request: HttpRequest) -> HttpResponse:
    page = paginate(audit_for(), page=request.GET.get("page"), query=request.GET, per_page=50)
    return render(request, "tenants/console/audit.html", {"page": page})
