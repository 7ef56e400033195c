"""The platform's public site: home, pricing, signup (public schema)."""

from __future__ import annotations

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from tenants.accounts.throttling import attempt, refused
from tenants.errors import ProvisioningError, SignupError
from tenants.forms import SignupForm
from tenants.models import Plan
from tenants.services import handoff_issue, shop_open, subdomain_check
from tenants.urls_util import shop_url


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    plans = Plan.objects.filter(is_public=True)
    return render(request, "tenants/home.html", {"plans": plans})


@require_GET
def pricing(request: HttpRequest) -> HttpResponse:
    plans = Plan.objects.filter(is_public=True)
    return render(request, "tenants/pricing.html", {"plans": plans})


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    form = SignupForm(request.POST or None, initial={"plan": request.GET.get("plan")})
    refusal = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        refusal = attempt(request, action="signup", email=data["email"])
    if refusal is not None:
        form.add_error(None, refusal.message)
    elif request.method == "POST" and form.is_valid():
        try:
            opened = shop_open(
                name=data["name"],
                subdomain=data["subdomain"],
                owner_email=data["email"],
                owner_password=data["password"],
                plan=data["plan"],
                locale=request.LANGUAGE_CODE,
            )
        except SignupError as exc:
            form.add_error(exc.field, exc.message)
        except ProvisioningError as exc:
            form.add_error(None, str(exc))
        else:
            token = handoff_issue(shop=opened.shop, user_id=opened.owner_id)
            path = reverse("accounts:handoff", urlconf="config.urls_tenant", args=[token])
            return redirect(shop_url(request, opened.domain.domain, path))
    status = 422 if form.errors else 200
    response = render(request, "tenants/signup.html", {"form": form}, status=status)
    return refused(response, refusal) if refusal else response


@require_GET
def signup_check_subdomain(request: HttpRequest) -> HttpResponse:
    """HTMX check on blur; the server validates again on submit."""
    value = request.GET.get("subdomain", "")
    problem = subdomain_check(value)
    return render(
        request,
        "tenants/signup.html#subdomain-status",
        {"subdomain_problem": problem, "subdomain_value": value.strip().lower(), "checked": True},
    )


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Load-balancer check on every host: the database answers and this host's schema is known."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        return JsonResponse({"status": "error", "database": str(exc.__class__.__name__)}, status=503)
    return JsonResponse({"status": "ok", "database": "ok", "schema": connection.schema_name})


@require_GET
def bench_reference(request: HttpRequest) -> HttpResponse:
    """The yardstick for `make bench`: one query, a tiny template, the full middleware stack.
    Mounted only when settings.BENCHMARK_VIEWS is on."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        (value,) = cursor.fetchone()
    return render(request, "tenants/bench_reference.html", {"value": value})
