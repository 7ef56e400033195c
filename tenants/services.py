"""Every write to the platform: provisioning, signup, console actions (CONVENTIONS 1)."""

from __future__ import annotations

import logging
import secrets
import threading
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core import signing
from django.db import (
    DatabaseError,
    IntegrityError,
    close_old_connections,
    connection,
    transaction,
)
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed
from django_tenants.utils import schema_context

from tenants.accounts.models import User
from tenants.accounts.services import staff_create_owner
from tenants.cloning import schema_clone
from tenants.errors import ProvisioningError, SignupError, TenantsError
from tenants.fast_migrate import schemas_needing_migration
from tenants.models import (
    AuditAction,
    Domain,
    LoginHandoff,
    Plan,
    PlatformAuditLog,
    Shop,
    ShopStatus,
)
from tenants.subdomains import normalize_subdomain, subdomain_problem

logger = logging.getLogger(__name__)

HANDOFF_SALT = "tenants.login-handoff"
# Any constant distinct from other advisory locks of the app: one pool filler at a time.
POOL_LOCK_KEY = 7_401_001


# ---------------------------------------------------------------------------------------------
# Platform bootstrap
# ---------------------------------------------------------------------------------------------
DEFAULT_PLANS = [
    # code, name, monthly price, staff seats, products, default
    ("starter", "Starter", "0.00", 2, 100, True),
    ("business", "Business", "29.00", 10, 5_000, False),
    ("enterprise", "Enterprise", "99.00", 50, 100_000, False),
]


@transaction.atomic
def platform_ensure_public() -> Shop:
    """The public tenant (platform site) and its domain for the current BASE_DOMAIN, and the
    default plans on a fresh database. Idempotent: runs after every public migrate."""
    public, _created = Shop.objects.get_or_create(
        schema_name=settings.PUBLIC_SCHEMA_NAME,
        defaults={"name": "Platform", "status": ShopStatus.ACTIVE},
    )
    Domain.objects.get_or_create(
        domain=settings.BASE_DOMAIN, defaults={"tenant": public, "is_primary": True}
    )
    if not Plan.objects.exists():
        for position, (code, name, price, staff, products, default) in enumerate(DEFAULT_PLANS):
            Plan.objects.create(
                code=code, name=name, monthly_price=price, max_staff=staff,
                max_products=products, is_default=default, position=position,
            )
    return public


def plan_default() -> Plan | None:
    return Plan.objects.filter(is_default=True).first() or Plan.objects.first()


# ---------------------------------------------------------------------------------------------
# The pool of ready shops
# ---------------------------------------------------------------------------------------------
def _new_schema_name() -> str:
    return f"shop_{secrets.token_hex(6)}"


def shop_create_pooled() -> Shop:
    """Create one ready shop: its row, its schema with every tenant migration applied, its role
    groups. The schema is copied from an up-to-date pooled shop when there is one (half a
    second, see tenants.cloning), else made by running the migrations (seconds).

    One transaction: a failure (or a crash) anywhere leaves no row and no schema behind.
    Signups never wait for it unless the pool is empty.
    """
    connection.set_schema_to_public()  # django-tenants creates tenants from public only
    try:
        with transaction.atomic():
            shop = Shop(schema_name=_new_schema_name())
            source = _clone_source() if settings.SHOP_CREATE_BY_COPY else None
            if source is None:
                shop.save(verbosity=0)  # creates and migrates the schema (auto_create_schema)
            else:
                shop.auto_create_schema = False
                shop.save(verbosity=0)
                try:
                    with transaction.atomic():
                        schema_clone(source=source.schema_name, target=shop.schema_name)
                except DatabaseError:  # e.g. two fillers replacing the copy function at once
                    logger.warning("copy failed, migrating instead", exc_info=True,
                                   extra={"shop": shop.schema_name, "action": "pool.create"})
                    source = None
                    shop.create_schema(check_if_exists=True, verbosity=0)
    except Exception as exc:  # noqa: BLE001 - migrations raise anything; we re-raise as ours
        connection.set_schema_to_public()
        logger.exception("provisioning failed", extra={"action": "pool.create"})
        raise ProvisioningError(_("The shop could not be created. Please try again.")) from exc
    connection.set_schema_to_public()
    logger.info("pooled shop ready", extra={"shop": shop.schema_name, "action": "pool.create",
                                            "copied_from": source.schema_name if source else ""})
    return shop


def _clone_source() -> Shop | None:
    """A pooled shop to copy: locked until the copy commits, so no signup claims (and writes
    into) it meanwhile; and complete: a shop missing a migration on disk (a deploy in
    progress) is never copied."""
    source = (Shop.objects.select_for_update(skip_locked=True)
              .filter(status=ShopStatus.POOLED).order_by("pk").first())
    if source is None or schemas_needing_migration([source.schema_name], database="default"):
        return None
    return source


def pool_size() -> int:
    return Shop.objects.filter(status=ShopStatus.POOLED).count()


def pool_top_up(*, target: int | None = None) -> int:
    """Create pooled shops until `target` (default SHOP_POOL_SIZE) are ready. Returns how many
    were created. Only one process fills at a time (PostgreSQL advisory lock); the others return."""
    target = settings.SHOP_POOL_SIZE if target is None else target
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [POOL_LOCK_KEY])
        (locked,) = cursor.fetchone()
    if not locked:
        return 0
    created = 0
    try:
        while pool_size() < target:
            shop_create_pooled()
            created += 1
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [POOL_LOCK_KEY])
    return created


def pool_top_up_soon() -> None:
    """Refill the pool in the background: a Celery task with a broker; without one (a fresh
    machine), a daemon thread, so the signup that emptied a slot never waits for migrations."""
    if settings.SHOP_POOL_SIZE <= 0:
        return
    if settings.CELERY_BROKER_URL:
        from tenants.tasks import pool_top_up_task  # tasks import services: avoid the cycle

        pool_top_up_task.delay()
        return

    def run() -> None:
        try:
            pool_top_up()
        except ProvisioningError:
            pass  # already logged; the next signup or `manage.py pool fill` retries
        finally:
            close_old_connections()
            connection.close()

    threading.Thread(target=run, name="pool-top-up", daemon=True).start()


def _claim_pooled_shop() -> Shop | None:
    # skip_locked: concurrent signups each take a different ready shop without waiting.
    return (
        Shop.objects.select_for_update(skip_locked=True)
        .filter(status=ShopStatus.POOLED)
        .exclude(schema_name=settings.PUBLIC_SCHEMA_NAME)
        .order_by("created_at", "pk")
        .first()
    )


# ---------------------------------------------------------------------------------------------
# Signup and shop creation
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ShopOpened:
    shop: Shop
    domain: Domain
    owner_id: int
    from_pool: bool


def subdomain_check(value: str) -> str | None:
    """The message to show for this subdomain, or None when it is free and valid."""
    name = normalize_subdomain(value)
    problem = subdomain_problem(name)
    if problem:
        return problem
    if Domain.objects.filter(domain__iexact=f"{name}.{settings.BASE_DOMAIN}").exists():
        return _("“%(name)s” is already taken.") % {"name": name}
    return None


def shop_open(
    *,
    name: str,
    subdomain: str,
    owner_email: str,
    owner_password: str | None,
    plan: Plan | None = None,
    locale: str | None = None,
    by: User | None = None,
    action: str = AuditAction.SHOP_SIGNED_UP,
) -> ShopOpened:
    """Open a shop: claim a ready one from the pool (or create one if the pool is empty),
    name it, attach its domain and create its owner, all in one transaction.

    `owner_password` None creates the owner without a usable password (console-created shops:
    the owner sets one through the emailed link). Raises SignupError with the field at fault;
    then nothing was created or changed.
    """
    name = (name or "").strip()
    subdomain = normalize_subdomain(subdomain)
    owner_email = (owner_email or "").strip().lower()
    if not name:
        raise SignupError(_("Give your shop a name."), field="name")
    problem = subdomain_check(subdomain)
    if problem:
        raise SignupError(problem, field="subdomain")
    if plan is None:
        plan = plan_default()
    # Hash outside the transaction: it is deliberately slow and must not hold the pool lock.
    password_hash = make_password(owner_password)
    host = f"{subdomain}.{settings.BASE_DOMAIN}"

    from_pool = True
    with transaction.atomic():
        shop = _claim_pooled_shop()
        if shop is None:
            from_pool = False
            shop = shop_create_pooled()
            shop = Shop.objects.select_for_update().get(pk=shop.pk)
        shop.name = name
        shop.plan = plan
        shop.owner_email = owner_email
        if locale:
            shop.locale = locale
        shop.activate()
        shop.save()
        try:
            with transaction.atomic():
                domain = Domain.objects.create(domain=host, tenant=shop, is_primary=True)
        except IntegrityError as exc:
            # Lost a race for the same subdomain: the whole signup rolls back, the pooled
            # shop goes back to the pool untouched.
            raise SignupError(
                _("“%(name)s” is already taken.") % {"name": subdomain}, field="subdomain"
            ) from exc
        with schema_context(shop.schema_name):
            owner = staff_create_owner(email=owner_email, password_hash=password_hash)
        audit_record(
            actor=by,
            action=action,
            shop=shop,
            data={"subdomain": subdomain, "plan": plan.code if plan else None, "pool": from_pool},
        )
        transaction.on_commit(pool_top_up_soon)
    logger.info("shop opened", extra={"shop": shop.schema_name, "action": action})
    return ShopOpened(shop=shop, domain=domain, owner_id=owner.pk, from_pool=from_pool)


# ---------------------------------------------------------------------------------------------
# Login hand-off from the platform host to the shop host
# ---------------------------------------------------------------------------------------------
def handoff_issue(*, shop: Shop, user_id: int) -> str:
    """A signed, single-use, short-lived token that logs `user_id` into `shop` on its host."""
    nonce = secrets.token_urlsafe(24)
    LoginHandoff.objects.create(nonce=nonce, schema_name=shop.schema_name, user_id=user_id)
    return signing.dumps({"n": nonce}, salt=HANDOFF_SALT)


def handoff_consume(*, token: str, schema_name: str) -> int | None:
    """The user id the token logs in on this shop, or None if it is forged, stale, used, or
    for another shop. A token works once."""
    max_age = settings.SIGNUP_HANDOFF_MAX_AGE
    try:
        payload = signing.loads(token, salt=HANDOFF_SALT, max_age=max_age)
    except signing.BadSignature:  # includes SignatureExpired
        return None
    nonce = payload.get("n") if isinstance(payload, dict) else None
    if not isinstance(nonce, str):
        return None
    now = timezone.now()
    with transaction.atomic():
        ticket = (
            LoginHandoff.objects.select_for_update()
            .filter(
                nonce=nonce,
                schema_name=schema_name,
                used_at__isnull=True,
                created_at__gte=now - timedelta(seconds=max_age),
            )
            .first()
        )
        if ticket is None:
            return None
        ticket.used_at = now
        ticket.save(update_fields=["used_at"])
    return ticket.user_id


def handoff_purge(*, older_than: timedelta = timedelta(days=1)) -> int:
    deleted, _detail = LoginHandoff.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted


# ---------------------------------------------------------------------------------------------
# Console actions
# ---------------------------------------------------------------------------------------------
def audit_record(*, actor: User | None, action: str, shop: Shop | None, data: dict | None = None
                 ) -> PlatformAuditLog:
    return PlatformAuditLog.objects.create(
        actor=actor if actor and actor.pk else None,
        actor_label=(actor.email if actor and actor.pk else "system"),
        action=action,
        shop=shop,
        data=data or {},
    )


def _locked(shop: Shop) -> Shop:
    return Shop.objects.select_for_update().get(pk=shop.pk)


def _transition(shop: Shop, *, by: User, method: str, action: str, reason: str) -> Shop:
    shop = _locked(shop)
    before = shop.status
    transition = getattr(shop, method)
    if not can_proceed(transition):
        refusals = {
            "suspend": _("Only an active shop can be suspended (this one is %(status)s)."),
            "reactivate": _("Only a suspended shop can be reactivated (this one is %(status)s)."),
            "archive": _("This shop is already archived."),
        }
        raise TenantsError(refusals[method] % {"status": shop.get_status_display().lower()})
    transition()
    shop.save(update_fields=["status", "status_changed_at", "activated_at"])
    audit_record(actor=by, action=action, shop=shop,
                 data={"from": before, "to": shop.status, "reason": reason})
    return shop


@transaction.atomic
def shop_suspend(*, shop: Shop, by: User, reason: str = "") -> Shop:
    return _transition(shop, by=by, method="suspend", action=AuditAction.SHOP_SUSPENDED, reason=reason)


@transaction.atomic
def shop_reactivate(*, shop: Shop, by: User, reason: str = "") -> Shop:
    return _transition(
        shop, by=by, method="reactivate", action=AuditAction.SHOP_REACTIVATED, reason=reason
    )


@transaction.atomic
def shop_archive(*, shop: Shop, by: User, reason: str = "") -> Shop:
    """Archived shops keep their schema and data; their host shows a "closed" page."""
    return _transition(shop, by=by, method="archive", action=AuditAction.SHOP_ARCHIVED, reason=reason)


@transaction.atomic
def shop_change_plan(*, shop: Shop, plan: Plan, by: User) -> Shop:
    shop = _locked(shop)
    if shop.status == ShopStatus.POOLED:
        raise TenantsError(_("A pooled shop has no plan yet."))
    before = shop.plan.code if shop.plan else None
    if before == plan.code:
        return shop
    shop.plan = plan
    shop.save(update_fields=["plan"])
    audit_record(actor=by, action=AuditAction.SHOP_PLAN_CHANGED, shop=shop,
                 data={"from": before, "to": plan.code})
    return shop


def console_pool_fill(*, by: User, target: int | None = None) -> int:
    created = pool_top_up(target=target)
    audit_record(actor=by, action=AuditAction.POOL_FILLED, shop=None,
                 data={"created": created, "ready": pool_size()})
    return created



SHOP_SETTINGS_FIELDS = (
    "name", "locale", "legal_name", "legal_form", "share_capital", "siren", "siret", "vat_number",
    "rcs", "address_line1", "address_line2", "postal_code", "city", "iban", "bic",
)


@transaction.atomic
def shop_update_settings(*, shop: Shop, by: User, **values: str) -> Shop:
    """A shop's own settings (name, language, legal identity), changed by its staff."""
    unknown = set(values) - set(SHOP_SETTINGS_FIELDS)
    if unknown:
        raise TenantsError(_("Unknown settings: %(names)s") % {"names": ", ".join(sorted(unknown))})
    locked = _locked(shop)
    for field, value in values.items():
        setattr(locked, field, value)
    locked.save(update_fields=list(values))
    for field, value in values.items():
        setattr(shop, field, value)  # the request's copy shows the change at once
    return locked
