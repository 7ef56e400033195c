"""Shop host: staff sign-in, the dashboard shell and home, staff and API token management."""

from __future__ import annotations

from functools import wraps

from django.apps import apps
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tenants.accounts.forms import (
    ApiTokenForm,
    EmailLoginForm,
    InviteForm,
    RoleForm,
    ShopSettingsForm,
)
from tenants.accounts.models import ApiToken, User
from tenants.accounts.roles import ROLE_DESCRIPTIONS, ROLE_LABELS
from tenants.accounts.search import MAX_LENGTH, MIN_LENGTH
from tenants.accounts.selectors import api_tokens_for, staff_count, staff_get, staff_list
from tenants.accounts.services import (
    api_token_create,
    api_token_revoke,
    password_setup_email_send,
    staff_deactivate,
    staff_invite,
    staff_reactivate,
    staff_set_role,
)
from tenants.accounts.throttling import ThrottledLoginView, ThrottledPasswordResetView
from tenants.errors import TenantsError
from tenants.services import handoff_consume, shop_update_settings
from tenants.urls_util import shop_url


def staff_required(perm: str | None = None):
    """Dashboard pages: signed-in, active staff of this shop, with `perm` if given."""

    def decorator(view):
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path(), reverse("accounts:login"))
            if not (user.is_active and user.is_staff):
                raise PermissionDenied(_("This page is for the shop's staff."))
            if perm and not user.has_perm(perm):
                raise PermissionDenied(_("Your role does not allow this."))
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


class StaffLoginView(ThrottledLoginView):
    template_name = "accounts/login.html"
    form_class = EmailLoginForm
    redirect_authenticated_user = True


@require_GET
def handoff(request: HttpRequest, token: str) -> HttpResponse:
    """Lands a new owner, signed in, on their dashboard after signup on the platform host."""
    user_id = handoff_consume(token=token, schema_name=connection.schema_name)
    user = User.objects.filter(pk=user_id, is_active=True).first() if user_id else None
    if user is None:
        messages.info(request, _("This sign-in link has expired or was already used. "
                                 "Please sign in with your email and password."))
        return redirect("accounts:login")
    login(request, user, backend="tenants.accounts.backends.StaffBackend")
    messages.success(request, _("Welcome to your shop! Here is your dashboard."))
    return redirect("dashboard:home")


@require_GET
@staff_required()
def dashboard_home(request: HttpRequest) -> HttpResponse:
    shop = connection.tenant
    team = staff_count()
    checklist = [
        {"label": _("Open your shop"), "done": True, "url": "/"},
        {"label": _("Fill in your legal identity (used on invoices)"),
         "done": bool(shop.legal_name and shop.siren), "url": reverse("dashboard:settings")},
        {"label": _("Invite your team"), "done": team > 1, "url": reverse("dashboard:staff")},
    ]
    widgets = []
    # Apps contribute steps and widgets through their AppConfig, so this module never imports
    # them (dependency direction: tenants <- catalog <- sales <- billing).
    for config in apps.get_app_configs():
        if getattr(config, "onboarding_steps", None):
            checklist += import_string(config.onboarding_steps)(request)
        for path in getattr(config, "dashboard_widgets", []):
            widgets.append(import_string(path)(request))
    context = {
        "checklist": checklist,
        "checklist_done": sum(1 for step in checklist if step["done"]),
        "team": team,
        "widgets": [w for w in widgets if w],
    }
    return render(request, "dashboard/home.html", context)


@require_GET
@staff_required()
def dashboard_search(request: HttpRequest) -> HttpResponse:
    """The top bar's search: what each app finds for these words (tenants/accounts/search.py),
    only what the user's role may open."""
    q = " ".join(request.GET.get("q", "").split())[:MAX_LENGTH]
    groups = []
    if len(q) >= MIN_LENGTH:
        for config in apps.get_app_configs():
            for path in getattr(config, "dashboard_search", []):
                group = import_string(path)(request, q)
                if group is not None and group.hits:
                    groups.append(group)
    groups.sort(key=lambda group: group.position)
    context = {"q": q, "groups": groups, "too_short": 0 < len(q) < MIN_LENGTH,
               "min_length": MIN_LENGTH}
    return render(request, "dashboard/search.html", context)


def _role_descriptions() -> list[tuple[str, str]]:
    return [(ROLE_LABELS[code], ROLE_DESCRIPTIONS[code]) for code in ROLE_DESCRIPTIONS]


def _max_staff() -> int | None:
    plan = connection.tenant.plan
    return plan.max_staff if plan else None


@require_GET
@staff_required("accounts.view_staff")
def staff_page(request: HttpRequest) -> HttpResponse:
    context = {
        "staff": staff_list(),
        "invite_form": InviteForm(),
        "role_descriptions": _role_descriptions(),
        "seats_used": staff_count(),
        "seats_max": _max_staff(),
        "can_manage": request.user.has_perm("accounts.manage_staff"),
    }
    return render(request, "dashboard/staff.html", context)


@require_POST
@staff_required("accounts.manage_staff")
def staff_invite_view(request: HttpRequest) -> HttpResponse:
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            user = staff_invite(**form.cleaned_data, by=request.user, max_staff=_max_staff())
        except TenantsError as exc:
            form.add_error(None, str(exc))
        else:
            password_setup_email_send(
                shop=connection.tenant, user_id=user.pk,
                base_url=shop_url(request, request.get_host().split(":")[0], ""),
                invited_by=request.user,
            )
            messages.success(request, _("%(email)s is invited: they got an email to choose a "
                                        "password.") % {"email": user.email})
            return redirect("dashboard:staff")
    context = {
        "staff": staff_list(), "invite_form": form, "role_descriptions": _role_descriptions(),
        "seats_used": staff_count(), "seats_max": _max_staff(), "can_manage": True,
    }
    return render(request, "dashboard/staff.html", context, status=422)


def _staff_or_404(pk: int) -> User:
    user = staff_get(pk=pk)
    if user is None:
        raise Http404(_("No such staff member."))
    return user


@require_POST
@staff_required("accounts.manage_staff")
def staff_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    member = _staff_or_404(pk)
    try:
        if action == "deactivate":
            staff_deactivate(user=member, by=request.user)
            messages.success(request, _("%(email)s can no longer sign in.") % {"email": member.email})
        elif action == "reactivate":
            staff_reactivate(user=member, by=request.user, max_staff=_max_staff())
            messages.success(request, _("%(email)s can sign in again.") % {"email": member.email})
        elif action == "role":
            form = RoleForm(request.POST)
            if not form.is_valid():
                raise TenantsError(_("Choose a role from the list."))
            staff_set_role(user=member, role=form.cleaned_data["role"], by=request.user)
            messages.success(request, _("Role updated for %(email)s.") % {"email": member.email})
        else:
            raise Http404(_("No such action."))
    except TenantsError as exc:
        messages.error(request, str(exc))
    return redirect("dashboard:staff")


@require_http_methods(["GET", "POST"])
@staff_required()
def api_tokens(request: HttpRequest) -> HttpResponse:
    form = ApiTokenForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        try:
            _token, new_key = api_token_create(user=request.user, name=form.cleaned_data["name"])
        except TenantsError as exc:
            form.add_error("name", str(exc))
        else:
            form = ApiTokenForm()
    context = {"form": form, "tokens": api_tokens_for(user=request.user), "new_key": new_key}
    return render(request, "dashboard/api_tokens.html", context, status=422 if form.errors else 200)


@require_POST
@staff_required()
def api_token_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    token = ApiToken.objects.filter(pk=pk, user=request.user).first()
    if token is None:
        raise Http404(_("No such token."))
    api_token_revoke(token=token, by=request.user)
    messages.success(request, _("Token “%(name)s” is revoked.") % {"name": token.name})
    return redirect("dashboard:api_tokens")


@require_http_methods(["GET", "POST"])
@staff_required("accounts.manage_shop_settings")
def shop_settings(request: HttpRequest) -> HttpResponse:
    shop = connection.tenant
    fields = list(ShopSettingsForm.base_fields)
    form = ShopSettingsForm(request.POST or None, initial={f: getattr(shop, f) for f in fields})
    if request.method == "POST" and form.is_valid():
        shop_update_settings(shop=shop, by=request.user, **form.cleaned_data)
        messages.success(request, _("Settings saved."))
        return redirect("dashboard:settings")
    return render(request, "dashboard/settings.html", {"form": form},
                  status=422 if form.errors else 200)


# Password change and reset: Django's views with our templates, on the shop's host.
password_change = auth_views.PasswordChangeView.as_view(
    template_name="accounts/password_change.html", success_url=reverse_lazy("dashboard:home")
)
password_reset = ThrottledPasswordResetView.as_view(
    template_name="accounts/password_reset.html",
    email_template_name="accounts/email/password_reset.txt",
    subject_template_name="accounts/email/password_reset_subject.txt",
    success_url=reverse_lazy("accounts:password_reset_done"),
)
password_reset_done = auth_views.PasswordResetDoneView.as_view(
    template_name="accounts/password_reset_done.html"
)
password_reset_confirm = auth_views.PasswordResetConfirmView.as_view(
    template_name="accounts/password_reset_confirm.html",
    success_url=reverse_lazy("accounts:login"),
    post_reset_login=False,
)
