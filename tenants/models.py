from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition
from django_tenants.models import DomainMixin, TenantMixin


class Plan(models.Model):
    """A subscription tier. Limits are enforced where the thing is created (staff seats, products)."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    monthly_price = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0.00"))
    currency = models.CharField(max_length=3, default="EUR")
    max_staff = models.PositiveIntegerField(help_text=_("Active staff accounts, owner included."))
    max_products = models.PositiveIntegerField()
    description = models.TextField(blank=True)
    is_public = models.BooleanField(default=True, help_text=_("Offered on the pricing page."))
    is_default = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "monthly_price"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=models.Q(is_default=True), name="one_default_plan"
            )
        ]

    def __str__(self) -> str:
        return self.name


class ShopStatus(models.TextChoices):
    POOLED = "pooled", _("Pooled")
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    ARCHIVED = "archived", _("Archived")


class Shop(TenantMixin):
    """A merchant's shop. Its data lives in the PostgreSQL schema `schema_name` (opaque,
    e.g. `shop_4f1c2a9b03de`); its subdomain is only a Domain row, so renaming is cheap."""

    name = models.CharField(max_length=100, blank=True)
    status = FSMField(default=ShopStatus.POOLED, choices=ShopStatus.choices, protected=True)
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, null=True, blank=True, related_name="shops")
    currency = models.CharField(max_length=3, default="EUR")
    locale = models.CharField(max_length=8, default="fr", choices=settings.LANGUAGES)
    owner_email = models.EmailField(blank=True)
    # Legal identity printed on invoices (French mandatory mentions).
    legal_name = models.CharField(max_length=150, blank=True)
    legal_form = models.CharField(max_length=60, blank=True, help_text=_("e.g. SAS, SARL, EI"))
    share_capital = models.CharField(max_length=40, blank=True)
    siren = models.CharField("SIREN", max_length=9, blank=True)
    siret = models.CharField("SIRET", max_length=14, blank=True)
    vat_number = models.CharField(_("VAT number"), max_length=20, blank=True)
    rcs = models.CharField(_("RCS registration"), max_length=80, blank=True)
    address_line1 = models.CharField(max_length=150, blank=True)
    address_line2 = models.CharField(max_length=150, blank=True)
    postal_code = models.CharField(max_length=12, blank=True)
    city = models.CharField(max_length=80, blank=True)
    country = models.CharField(max_length=2, default="FR")
    # Where customers pay by bank transfer (printed on order confirmations and invoices).
    iban = models.CharField("IBAN", max_length=34, blank=True)
    bic = models.CharField("BIC", max_length=11, blank=True)
    # The merchant's Stripe account (Connect): card payments are created on it, and the
    # platform's webhook endpoint finds the shop of an event by it. Kept in the public schema.
    stripe_account_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    stripe_charges_enabled = models.BooleanField(default=False)
    stripe_checked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    activated_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)

    auto_create_schema = True
    auto_drop_schema = True

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return self.name or self.schema_name

    @property
    def is_public(self) -> bool:
        return self.schema_name == settings.PUBLIC_SCHEMA_NAME

    @property
    def is_available(self) -> bool:
        return self.status == ShopStatus.ACTIVE

    @property
    def accepts_cards(self) -> bool:
        """Customers can pay by card: the platform has a Stripe key and this shop's connected
        Stripe account may take charges."""
        return bool(settings.STRIPE_SECRET_KEY and self.stripe_account_id
                    and self.stripe_charges_enabled)

    @property
    def subdomain(self) -> str:
        domain = self.primary_domain
        return domain.subdomain if domain else ""

    @property
    def primary_domain(self) -> Domain | None:
        # Uses the prefetch cache when the caller prefetched `domains`.
        for domain in self.domains.all():
            if domain.is_primary:
                return domain
        return None

    # Transitions only check and change state; services orchestrate (CONVENTIONS 2).
    @transition(field=status, source=ShopStatus.POOLED, target=ShopStatus.ACTIVE)
    def activate(self) -> None:
        self.activated_at = self.status_changed_at = timezone.now()

    @transition(field=status, source=ShopStatus.ACTIVE, target=ShopStatus.SUSPENDED)
    def suspend(self) -> None:
        self.status_changed_at = timezone.now()

    @transition(field=status, source=ShopStatus.SUSPENDED, target=ShopStatus.ACTIVE)
    def reactivate(self) -> None:
        self.status_changed_at = timezone.now()

    @transition(
        field=status, source=[ShopStatus.ACTIVE, ShopStatus.SUSPENDED], target=ShopStatus.ARCHIVED
    )
    def archive(self) -> None:
        self.status_changed_at = timezone.now()


class Domain(DomainMixin):
    class Meta:
        ordering = ["-is_primary", "domain"]

    @property
    def subdomain(self) -> str:
        suffix = f".{settings.BASE_DOMAIN}"
        return self.domain[: -len(suffix)] if self.domain.endswith(suffix) else self.domain


class AuditAction(models.TextChoices):
    SHOP_CREATED = "shop.created", _("Shop created")
    SHOP_SIGNED_UP = "shop.signed_up", _("Shop signed up")
    SHOP_SUSPENDED = "shop.suspended", _("Shop suspended")
    SHOP_REACTIVATED = "shop.reactivated", _("Shop reactivated")
    SHOP_ARCHIVED = "shop.archived", _("Shop archived")
    SHOP_PLAN_CHANGED = "shop.plan_changed", _("Plan changed")
    POOL_FILLED = "pool.filled", _("Pool topped up")


class PlatformAuditLog(models.Model):
    """Who did what to which shop, and when. Written in the same transaction as the action."""

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(max_length=254, blank=True, help_text=_("Kept if the user goes."))
    action = models.CharField(max_length=40, choices=AuditAction.choices)
    shop = models.ForeignKey(Shop, on_delete=models.SET_NULL, null=True, blank=True, related_name="audit")
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"


class LoginHandoff(models.Model):
    """A single-use ticket that logs a new owner into their shop's host after signup on the
    platform host (cookies cannot cross hosts). Lives in public; consumed from the shop host."""

    nonce = models.CharField(max_length=64, unique=True)
    schema_name = models.CharField(max_length=63)
    user_id = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"hand-off to {self.schema_name} ({'used' if self.used_at else 'unused'})"
