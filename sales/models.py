"""The sales pipeline of one shop (tenant schema): customers and their addresses, carts,
shipping methods, quotes and orders (state machines), and number sequences. Their history is
on their timelines (streams events: see sales/events.py).

Models declare state, invariants and transitions; every write goes through `sales.services`.
"""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from catalog.pricing import Line, Totals, totals

ZERO = Decimal("0")
HUNDRED = Decimal("100")
PERCENT = [MinValueValidator(ZERO), MaxValueValidator(HUNDRED)]


def _money(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=14, decimal_places=2, **kwargs)


def _quantity(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=14, decimal_places=3, **kwargs)


def _rate(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=5, decimal_places=2, **kwargs)


# ---------------------------------------------------------------------------------------------
# Customers
# ---------------------------------------------------------------------------------------------
class CustomerKind(models.TextChoices):
    PERSON = "person", _("Person")
    COMPANY = "company", _("Company")


class CustomerState(models.TextChoices):
    """As in django-SHOP. An unrecognised visitor has no Customer row (only a session and
    maybe a cart); a guest checked out with an email; a registered customer can sign in."""

    UNRECOGNIZED = "unrecognized", _("Unrecognised visitor")
    GUEST = "guest", _("Guest")
    REGISTERED = "registered", _("Registered")


class Customer(models.Model):
    kind = models.CharField(_("customer type"), max_length=10, choices=CustomerKind.choices,
                            default=CustomerKind.PERSON)
    state = models.CharField(_("state"), max_length=12, choices=CustomerState.choices,
                             default=CustomerState.GUEST)
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    company_name = models.CharField(_("company name"), max_length=150, blank=True)
    email = models.EmailField(_("email"))
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    vat_number = models.CharField(_("VAT number"), max_length=20, blank=True)
    company_id = models.CharField(_("SIREN / SIRET"), max_length=14, blank=True,
                                  help_text=_("French companies: 9 or 14 digits."))
    notes = models.TextField(_("internal notes"), blank=True)
    # A registered customer signs in with this account (a shop user who is not staff).
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                blank=True, related_name="customer")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["email"]), models.Index(fields=["last_name", "first_name"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(state="registered", user__isnull=False) | ~Q(state="registered"),
                name="registered_customer_has_user"),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.name_from(kind=self.kind, first_name=self.first_name,
                              last_name=self.last_name, company_name=self.company_name,
                              email=self.email)

    @staticmethod
    def name_from(*, kind: str, first_name: str, last_name: str, company_name: str,
                  email: str) -> str:
        """The display name from the columns alone (lists read rows as dicts)."""
        person = f"{first_name} {last_name}".strip()
        if kind == CustomerKind.COMPANY and company_name:
            return f"{company_name} ({person})" if person else company_name
        return person or company_name or email

    @property
    def is_business(self) -> bool:
        return self.kind == CustomerKind.COMPANY


class Address(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="addresses")
    full_name = models.CharField(_("full name"), max_length=150)
    company = models.CharField(_("company"), max_length=150, blank=True)
    line1 = models.CharField(_("address"), max_length=200)
    line2 = models.CharField(_("address line 2"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=12)
    city = models.CharField(_("city"), max_length=100)
    country = models.CharField(_("country"), max_length=2, default="FR",
                               help_text=_("Two-letter code, e.g. FR."))
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    is_default_billing = models.BooleanField(_("default billing address"), default=False)
    is_default_shipping = models.BooleanField(_("default shipping address"), default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-is_default_shipping", "-is_default_billing", "id"]
        verbose_name_plural = _("addresses")
        constraints = [
            models.UniqueConstraint(fields=["customer"], condition=Q(is_default_billing=True),
                                    name="one_default_billing_address"),
            models.UniqueConstraint(fields=["customer"], condition=Q(is_default_shipping=True),
                                    name="one_default_shipping_address"),
        ]

    def __str__(self) -> str:
        return ", ".join(p for p in (self.full_name, self.line1, f"{self.postal_code} {self.city}")
                         if p)

    def snapshot(self) -> dict:
        """What an order keeps: later edits of the address book never change a placed order."""
        return {f: getattr(self, f) for f in ADDRESS_FIELDS}


ADDRESS_FIELDS = ("full_name", "company", "line1", "line2", "postal_code", "city", "country",
                  "phone")


# ---------------------------------------------------------------------------------------------
# Carts
# ---------------------------------------------------------------------------------------------
class Cart(models.Model):
    """Owned by an anonymous session (`token`, kept in the session) or by a customer: one
    open cart each. Lines reference live products; problems are computed when shown."""

    token = models.CharField(max_length=43, unique=True, null=True, blank=True)
    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, null=True, blank=True,
                                    related_name="cart")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(token__isnull=False) | Q(customer__isnull=False),
                                   name="cart_has_owner"),
        ]

    def __str__(self) -> str:
        return f"Cart {self.pk}"

    @staticmethod
    def new_token() -> str:
        return secrets.token_urlsafe(32)


class CartLine(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey("catalog.BaseProduct", on_delete=models.CASCADE, related_name="+")
    quantity = _quantity(validators=[MinValueValidator(Decimal("0.001"))])
    # The net price the customer saw when adding: a later change is shown on the line.
    unit_net_seen = _money()
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "product"], name="one_line_per_product"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="cart_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product_id}"


# ---------------------------------------------------------------------------------------------
# Shipping and payment methods
# ---------------------------------------------------------------------------------------------
class ShippingKind(models.TextChoices):
    FLAT = "flat", _("Flat rate")
    PICKUP = "pickup", _("Pickup")


# What customers read when the merchant keeps the standard wording: in their own language.
SHIPPING_LABELS = {ShippingKind.FLAT: _("Standard delivery"),
                   ShippingKind.PICKUP: _("Pickup at the shop")}
SHIPPING_DESCRIPTIONS = {ShippingKind.FLAT: _("Delivered in 2 to 4 working days."),
                         ShippingKind.PICKUP: _("Collect your order at our address.")}


class ShippingMethod(models.Model):
    name = models.CharField(_("name"), max_length=100, blank=True,
                            help_text=_("Leave empty to show the standard wording in each "
                                        "customer's language."))
    kind = models.CharField(_("kind"), max_length=10, choices=ShippingKind.choices,
                            default=ShippingKind.FLAT)
    price_net = _money(verbose_name=_("price excl. VAT"), default=ZERO,
                       validators=[MinValueValidator(ZERO)])
    tax_rate = models.ForeignKey("catalog.TaxRate", on_delete=models.PROTECT,
                                 verbose_name=_("VAT rate"), related_name="+")
    free_above = _money(verbose_name=_("free above (incl. VAT)"), null=True, blank=True,
                        validators=[MinValueValidator(ZERO)],
                        help_text=_("Orders from this amount of goods (incl. VAT) ship free."))
    description = models.CharField(_("description"), max_length=200, blank=True)
    is_active = models.BooleanField(_("offered"), default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return self.name or str(SHIPPING_LABELS.get(self.kind, self.get_kind_display()))

    @property
    def summary(self) -> str:
        return self.description or str(SHIPPING_DESCRIPTIONS.get(self.kind, ""))


class PaymentMethod(models.TextChoices):
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    CARD = "card", _("Card")


# ---------------------------------------------------------------------------------------------
# Documents: quotes and orders
# ---------------------------------------------------------------------------------------------
class NumberSequence(models.Model):
    """One counter per document kind and year (`order-2026`). Taken with an UPDATE that locks
    the row until the transaction ends, so numbers are unique and never reused — billing's
    gap-free invoice numbers use the same mechanism."""

    key = models.CharField(max_length=40, unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.key}: {self.last}"


class DocumentLine(models.Model):
    """A line snapshotted from the catalog (or typed freely): later catalog edits never change
    it. Amounts are computed by catalog.pricing and stored when the document is fixed."""

    product = models.ForeignKey("catalog.BaseProduct", on_delete=models.PROTECT, null=True,
                                blank=True, related_name="+")
    name = models.CharField(_("description"), max_length=200)
    sku = models.CharField(_("SKU"), max_length=64, blank=True)
    quantity = _quantity(verbose_name=_("quantity"),
                         validators=[MinValueValidator(Decimal("0.001"))])
    unit = models.CharField(_("unit"), max_length=8, default="unit")
    unit_net = _money(verbose_name=_("unit price excl. VAT"), validators=[MinValueValidator(ZERO)])
    tax_rate = _rate(verbose_name=_("VAT rate (%)"), validators=PERCENT)
    discount_percent = _rate(verbose_name=_("discount (%)"), default=ZERO, validators=PERCENT)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.name}"

    def pricing_line(self, extra_discount: Decimal = ZERO) -> Line:
        return Line(unit_net=self.unit_net, quantity=self.quantity, rate_percent=self.tax_rate,
                    discount_percent=self.discount_percent, extra_discount_percent=extra_discount)


class QuoteStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SENT = "sent", _("Sent")
    ACCEPTED = "accepted", _("Accepted")
    CONVERTED = "converted", _("Converted")
    DECLINED = "declined", _("Declined")
    EXPIRED = "expired", _("Expired")
    CANCELLED = "cancelled", pgettext_lazy("quote status", "Cancelled")
    SUPERSEDED = "superseded", _("Superseded")


class QuoteSource(models.TextChoices):
    STAFF = "staff", _("Built by staff")
    CART = "cart", _("Requested from the cart")


class Quote(ConcurrentTransitionMixin, models.Model):
    """A priced offer. Editing a sent quote makes a new revision (same number, revision + 1)
    and supersedes this one; the history of revisions stays readable."""

    number = models.CharField(_("number"), max_length=20)
    revision = models.PositiveSmallIntegerField(_("revision"), default=1)
    previous = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="next_revision")
    status = FSMField(_("status"), default=QuoteStatus.DRAFT, choices=QuoteStatus.choices,
                      protected=True, db_index=True)
    source = models.CharField(max_length=8, choices=QuoteSource.choices, default=QuoteSource.STAFF)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="quotes",
                                 verbose_name=_("customer"))
    valid_until = models.DateField(_("valid until"))
    discount_percent = _rate(verbose_name=_("global discount (%)"), default=ZERO,
                             validators=PERCENT)
    terms = models.TextField(_("terms"), blank=True)
    notes = models.TextField(_("notes for the customer"), blank=True)
    currency = models.CharField(max_length=3, default="EUR")
    net_total = _money(default=ZERO)
    vat_total = _money(default=ZERO)
    gross_total = _money(default=ZERO)
    # The secret in the customer's link; a new revision gets a new one.
    access_key = models.CharField(max_length=43, default=secrets.token_urlsafe, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_name = models.CharField(_("signed by"), max_length=150, blank=True)
    accepted_ip = models.GenericIPAddressField(null=True, blank=True)
    declined_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.TextField(_("reason for declining"), blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    conversion_problem = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [
            ("send_quote", "Can send quotes to customers"),
            ("cancel_quote", "Can cancel quotes"),
            ("convert_quote", "Can convert accepted quotes into orders"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["number", "revision"], name="quote_number_revision"),
        ]
        indexes = [models.Index(fields=["customer", "-created_at"]),
                   models.Index(fields=["status", "valid_until"])]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return self.number if self.revision == 1 else f"{self.number}-R{self.revision}"

    @property
    def is_editable(self) -> bool:
        return self.status in (QuoteStatus.DRAFT, QuoteStatus.SENT)

    def is_expired_on(self, day) -> bool:
        return self.valid_until < day

    def compute_totals(self, lines=None) -> Totals:
        lines = self.lines.all() if lines is None else lines
        return totals([line.pricing_line(self.discount_percent) for line in lines], self.currency)

    # Transitions only check and change state; sales.services.quotes orchestrates them.
    @transition(field=status, source=QuoteStatus.DRAFT, target=QuoteStatus.SENT,
                permission="sales.send_quote")
    def send(self) -> None:
        self.sent_at = timezone.now()

    @transition(field=status, source=QuoteStatus.SENT, target=QuoteStatus.ACCEPTED)
    def accept(self, *, name: str, ip: str | None) -> None:
        self.accepted_at = timezone.now()
        self.accepted_name = name
        self.accepted_ip = ip

    @transition(field=status, source=QuoteStatus.SENT, target=QuoteStatus.DECLINED)
    def decline(self, *, reason: str) -> None:
        self.declined_at = self.closed_at = timezone.now()
        self.decline_reason = reason

    @transition(field=status, source=QuoteStatus.SENT, target=QuoteStatus.EXPIRED)
    def expire(self) -> None:
        self.closed_at = timezone.now()

    @transition(field=status, source=[QuoteStatus.DRAFT, QuoteStatus.SENT],
                target=QuoteStatus.CANCELLED, permission="sales.cancel_quote")
    def cancel(self) -> None:
        self.closed_at = timezone.now()

    @transition(field=status, source=QuoteStatus.SENT, target=QuoteStatus.SUPERSEDED,
                permission="sales.change_quote")
    def supersede(self) -> None:
        self.closed_at = timezone.now()

    @transition(field=status, source=QuoteStatus.ACCEPTED, target=QuoteStatus.CONVERTED,
                permission="sales.convert_quote")
    def convert(self) -> None:
        self.closed_at = timezone.now()
        self.conversion_problem = ""


class QuoteLine(DocumentLine):
    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines")

    class Meta(DocumentLine.Meta):
        pass


class OrderStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    CONFIRMED = "confirmed", _("Confirmed")
    PROCESSING = "processing", _("Processing")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    CANCELLED = "cancelled", pgettext_lazy("order status", "Cancelled")


class OrderSource(models.TextChoices):
    STOREFRONT = "storefront", _("Storefront")
    QUOTE = "quote", _("Quote")


CANCELLABLE = [OrderStatus.PENDING, OrderStatus.CONFIRMED, OrderStatus.PROCESSING]


class Order(ConcurrentTransitionMixin, models.Model):
    """A placed order: lines, addresses and shipping are snapshots. Stock is reserved when it
    is placed, committed when it ships, released when it is cancelled."""

    number = models.CharField(_("number"), max_length=20, unique=True)
    status = FSMField(_("status"), default=OrderStatus.PENDING, choices=OrderStatus.choices,
                      protected=True, db_index=True)
    source = models.CharField(max_length=12, choices=OrderSource.choices,
                              default=OrderSource.STOREFRONT)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders",
                                 verbose_name=_("customer"))
    email = models.EmailField(_("email"))
    quote = models.OneToOneField(Quote, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="order")
    # The checkout form's one-time key: a double submit finds the order the first one placed.
    checkout_key = models.CharField(max_length=43, unique=True, null=True, blank=True,
                                    editable=False)
    billing_address = models.JSONField(default=dict)
    shipping_address = models.JSONField(default=dict, blank=True)
    shipping_method = models.ForeignKey(ShippingMethod, on_delete=models.SET_NULL, null=True,
                                        blank=True, related_name="+")
    shipping_name = models.CharField(_("shipping"), max_length=100, blank=True)
    shipping_net = _money(default=ZERO)
    shipping_tax_rate = _rate(default=ZERO)
    payment_method = models.CharField(_("payment method"), max_length=16,
                                      choices=PaymentMethod.choices,
                                      default=PaymentMethod.BANK_TRANSFER)
    discount_percent = _rate(default=ZERO, validators=PERCENT)
    currency = models.CharField(max_length=3, default="EUR")
    net_total = _money(default=ZERO)
    vat_total = _money(default=ZERO)
    gross_total = _money(default=ZERO)
    customer_note = models.TextField(_("note from the customer"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    placed_at = models.DateTimeField(default=timezone.now, db_index=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.TextField(_("reason for cancelling"), blank=True)
    tracking_reference = models.CharField(_("tracking reference"), max_length=100, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-placed_at", "-id"]
        permissions = [
            ("confirm_order", "Can confirm orders"),
            ("process_order", "Can start preparing orders"),
            ("ship_order", "Can ship orders"),
            ("deliver_order", "Can mark orders delivered"),
            ("cancel_order", "Can cancel orders"),
        ]
        indexes = [models.Index(fields=["customer", "-placed_at"]),
                   models.Index(fields=["status", "-placed_at"])]

    def __str__(self) -> str:
        return self.number

    def compute_totals(self, lines=None) -> Totals:
        lines = self.lines.all() if lines is None else lines
        priced = [line.pricing_line(self.discount_percent) for line in lines]
        if self.shipping_net:
            priced.append(Line(unit_net=self.shipping_net, quantity=Decimal("1"),
                               rate_percent=self.shipping_tax_rate))
        return totals(priced, self.currency)

    @property
    def is_cancellable(self) -> bool:
        return self.status in CANCELLABLE

    @transition(field=status, source=OrderStatus.PENDING, target=OrderStatus.CONFIRMED,
                permission="sales.confirm_order")
    def confirm(self) -> None:
        self.confirmed_at = timezone.now()

    @transition(field=status, source=OrderStatus.CONFIRMED, target=OrderStatus.PROCESSING,
                permission="sales.process_order")
    def start_processing(self) -> None:
        pass

    @transition(field=status, source=OrderStatus.PROCESSING, target=OrderStatus.SHIPPED,
                permission="sales.ship_order")
    def ship(self, *, tracking: str = "") -> None:
        self.shipped_at = timezone.now()
        self.tracking_reference = tracking

    @transition(field=status, source=OrderStatus.SHIPPED, target=OrderStatus.DELIVERED,
                permission="sales.deliver_order")
    def deliver(self) -> None:
        self.delivered_at = timezone.now()

    @transition(field=status, source=CANCELLABLE, target=OrderStatus.CANCELLED,
                permission="sales.cancel_order")
    def cancel(self, *, reason: str) -> None:
        self.cancelled_at = timezone.now()
        self.cancel_reason = reason


class OrderStatusCount(models.Model):
    """How many orders each status holds, so the order list shows its total without counting
    the orders (a COUNT grows with the shop: 0.7 ms at 10,000 orders, a hundred times that at a
    million). Kept by PostgreSQL (migration 0006), never by the code: a trigger on sales_order
    writes each transaction's changes to OrderStatusDelta, and `order_counts_compact` folds
    those into these rows now and then. A status's count is its row plus its deltas."""

    status = models.CharField(max_length=50, primary_key=True)
    count = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.status}: {self.count}"


class OrderStatusDelta(models.Model):
    """One transaction's change to the per-status counts (+1 per order placed in a status, -1
    per order leaving it). One row per transaction and status: writers never wait for each
    other here, where updating the shared count rows directly made checkouts and transitions
    lock them in opposite orders (deadlocks, seen in the concurrency test)."""

    txid = models.BigIntegerField()
    status = models.CharField(max_length=50)
    change = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["txid", "status"],
                                               name="order_status_delta_per_transaction")]

    def __str__(self) -> str:
        return f"{self.status}: {self.change:+d}"


class OrderLine(DocumentLine):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    net = _money(default=ZERO)
    vat = _money(default=ZERO)
    gross = _money(default=ZERO)

    class Meta(DocumentLine.Meta):
        pass
