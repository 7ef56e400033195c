"""The catalog of one shop (tenant schema): polymorphic products, categories, types and specs,
tax rates, images, projects, and the stock ledger."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition
from polymorphic.models import PolymorphicModel

from catalog.pricing import gross


class TaxRate(models.Model):
    name = models.CharField(_("name"), max_length=60)
    rate = models.DecimalField(_("rate (%)"), max_digits=5, decimal_places=2,
                               validators=[MinValueValidator(Decimal("0"))])
    is_default = models.BooleanField(_("default"), default=False)

    class Meta:
        ordering = ["-rate"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True),
                                    name="one_default_tax_rate"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.rate.normalize():f} %)"


class Category(models.Model):
    """A node of the category tree. `path` is the slug path ("bikes/road"), kept by services."""

    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="children", verbose_name=_("parent"))
    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("slug"), max_length=100)
    path = models.CharField(max_length=500, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["path"]
        verbose_name_plural = _("categories")
        constraints = [
            models.UniqueConstraint(fields=["parent", "slug"], name="category_slug_per_parent"),
            models.UniqueConstraint(fields=["slug"], condition=Q(parent__isnull=True),
                                    name="category_root_slug"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("catalog:category", args=[self.path])


class ProductType(models.Model):
    """A family of products sharing specification fields (e.g. "Bike": frame size, gears)."""

    name = models.CharField(_("name"), max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SpecKind(models.TextChoices):
    TEXT = "text", _("Text")
    NUMBER = "number", _("Number")
    CHOICE = "choice", _("Choice")
    BOOLEAN = "boolean", _("Yes / no")


class SpecDefinition(models.Model):
    product_type = models.ForeignKey(ProductType, on_delete=models.CASCADE, related_name="specs")
    code = models.SlugField(_("code"), max_length=50)
    label = models.CharField(_("label"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=SpecKind.choices)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    required = models.BooleanField(_("required"), default=False)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["product_type", "code"],
                                               name="spec_code_per_type")]

    def __str__(self) -> str:
        return self.label


class Project(models.Model):
    """A programme grouping products, e.g. a real-estate development and its lots."""

    class Status(models.TextChoices):
        PLANNING = "planning", _("Planning")
        UNDER_CONSTRUCTION = "under_construction", _("Under construction")
        COMPLETED = "completed", _("Completed")

    name = models.CharField(_("name"), max_length=150)
    slug = models.SlugField(_("slug"), max_length=160, unique=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices,
                              default=Status.PLANNING)
    address = models.CharField(_("address"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    delivery_date = models.DateField(_("delivery date"), null=True, blank=True)
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("catalog:project", args=[self.slug])


class Unit(models.TextChoices):
    UNIT = "unit", _("unit")
    KG = "kg", _("kg")
    M = "m", _("m")
    M2 = "m2", _("m²")
    HOUR = "hour", _("hour")
    DAY = "day", _("day")


class ProductStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    ARCHIVED = "archived", _("Archived")


class BaseProduct(PolymorphicModel):
    """What every kind of product has. A kind is a subclass with its own fields, form and
    template (docs/adding-a-product-kind.md)."""

    KIND = "base"
    KIND_LABEL = _("Product")
    STOCKED = False

    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=220, unique=True)
    description = models.TextField(_("description"), blank=True,
                                   help_text=_("Basic HTML: paragraphs, lists, bold, links."))
    net_price = models.DecimalField(_("price excl. VAT"), max_digits=12, decimal_places=2,
                                    validators=[MinValueValidator(Decimal("0"))])
    tax_rate = models.ForeignKey(TaxRate, on_delete=models.PROTECT, verbose_name=_("VAT rate"))
    unit = models.CharField(_("unit"), max_length=8, choices=Unit.choices, default=Unit.UNIT)
    category = models.ForeignKey(Category, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="products", verbose_name=_("category"))
    product_type = models.ForeignKey(ProductType, on_delete=models.PROTECT, null=True,
                                     blank=True, related_name="products",
                                     verbose_name=_("product type"))
    specs = models.JSONField(_("specifications"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=ProductStatus.choices,
                              default=ProductStatus.ACTIVE, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        permissions = [("import_products", "Can import and export products as CSV")]
        indexes = [
            models.Index(fields=["status", "name"]),
            models.Index(fields=["category", "status"]),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def kind(self) -> str:
        return self.KIND

    @property
    def kind_label(self) -> str:
        return str(self.KIND_LABEL)

    def get_price(self) -> Decimal:
        """Unit price including VAT (the `tax_rate` should be select_related)."""
        return gross(self.net_price, self.tax_rate.rate)

    def get_absolute_url(self) -> str:
        return reverse("catalog:product", args=[self.slug])

    @property
    def is_archived(self) -> bool:
        return self.status == ProductStatus.ARCHIVED

    def is_available(self) -> bool:
        """Can a customer buy it now? Kinds refine this (stock, lot availability)."""
        return not self.is_archived


class Product(BaseProduct):
    """Stocked goods."""

    KIND = "goods"
    KIND_LABEL = _("Goods")
    STOCKED = True

    weight_kg = models.DecimalField(_("weight (kg)"), max_digits=10, decimal_places=3, null=True,
                                    blank=True)
    length_cm = models.DecimalField(_("length (cm)"), max_digits=8, decimal_places=1, null=True,
                                    blank=True)
    width_cm = models.DecimalField(_("width (cm)"), max_digits=8, decimal_places=1, null=True,
                                   blank=True)
    height_cm = models.DecimalField(_("height (cm)"), max_digits=8, decimal_places=1, null=True,
                                    blank=True)
    low_stock_threshold = models.DecimalField(_("low-stock threshold"), max_digits=12,
                                              decimal_places=3, default=Decimal("0"))

    class Meta:
        verbose_name = _("goods")
        verbose_name_plural = _("goods")

    def is_available(self) -> bool:
        level = getattr(self, "stock", None)
        return super().is_available() and level is not None and level.available > 0


class ServiceProduct(BaseProduct):
    """Not stocked: sold by the hour, the day or the unit."""

    KIND = "service"
    KIND_LABEL = _("Service")

    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"), null=True, blank=True)

    class Meta:
        verbose_name = _("service")


class LotAvailability(models.TextChoices):
    AVAILABLE = "available", _("Available")
    OPTIONED = "optioned", _("Optioned")
    RESERVED = "reserved", _("Reserved")
    SOLD = "sold", _("Sold")


class Orientation(models.TextChoices):
    N = "N", _("North")
    NE = "NE", _("North-east")
    E = "E", _("East")
    SE = "SE", _("South-east")
    S = "S", _("South")
    SW = "SW", _("South-west")
    W = "W", _("West")
    NW = "NW", _("North-west")


class RealEstateLot(BaseProduct):
    """A unique lot of a real-estate programme; its availability is its stock."""

    KIND = "lot"
    KIND_LABEL = _("Real-estate lot")

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="lots",
                                verbose_name=_("programme"))
    lot_number = models.CharField(_("lot number"), max_length=20)
    surface_m2 = models.DecimalField(_("surface (m²)"), max_digits=8, decimal_places=2)
    rooms = models.PositiveSmallIntegerField(_("rooms"), default=1)
    floor = models.SmallIntegerField(_("floor"), default=0)
    orientation = models.CharField(_("orientation"), max_length=2, choices=Orientation.choices,
                                   blank=True)
    parking_spaces = models.PositiveSmallIntegerField(_("parking spaces"), default=0)
    availability = FSMField(_("availability"), default=LotAvailability.AVAILABLE,
                            choices=LotAvailability.choices, protected=True)
    option_expires_at = models.DateTimeField(_("option expires"), null=True, blank=True)

    class Meta:
        verbose_name = _("real-estate lot")
        constraints = [models.UniqueConstraint(fields=["project", "lot_number"],
                                               name="lot_number_per_project")]

    def is_available(self) -> bool:
        return super().is_available() and self.availability == LotAvailability.AVAILABLE

    @transition(field=availability, source=LotAvailability.AVAILABLE,
                target=LotAvailability.OPTIONED)
    def option(self, *, until) -> None:
        self.option_expires_at = until

    @transition(field=availability, source=LotAvailability.AVAILABLE,
                target=LotAvailability.RESERVED)
    def reserve(self) -> None:
        self.option_expires_at = None

    @transition(field=availability,
                source=[LotAvailability.OPTIONED, LotAvailability.RESERVED],
                target=LotAvailability.AVAILABLE)
    def release(self) -> None:
        self.option_expires_at = None

    @transition(field=availability, source=LotAvailability.RESERVED, target=LotAvailability.SOLD)
    def sell(self) -> None:
        pass


class Vehicle(BaseProduct):
    """Stocked like goods (usually one unit): a car is received, reserved and sold once."""

    KIND = "vehicle"
    KIND_LABEL = _("Vehicle")
    STOCKED = True

    make = models.CharField(_("make"), max_length=60)
    model = models.CharField(_("model"), max_length=60)
    year = models.PositiveSmallIntegerField(_("year"))
    mileage_km = models.PositiveIntegerField(_("mileage (km)"), default=0)
    vin = models.CharField("VIN", max_length=17, unique=True)

    class Meta:
        verbose_name = _("vehicle")


PRODUCT_KINDS: dict[str, type[BaseProduct]] = {
    cls.KIND: cls for cls in (Product, ServiceProduct, RealEstateLot, Vehicle)
}


def _image_path(instance, filename: str) -> str:
    # django-tenants' storage prefixes the shop's schema: files never mix between shops.
    owner = "products" if isinstance(instance, ProductImage) else "projects"
    return f"{owner}/{timezone.now():%Y/%m}/{filename}"


class ImageBase(models.Model):
    image = models.ImageField(_("image"), upload_to=_image_path, width_field="width",
                              height_field="height")
    thumbnail = models.ImageField(upload_to=_image_path, blank=True)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    alt = models.CharField(_("description for screen readers"), max_length=200, blank=True)
    position = models.PositiveIntegerField(default=0)
    is_default = models.BooleanField(_("main image"), default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True
        ordering = ["-is_default", "position", "id"]

    def __str__(self) -> str:
        return self.alt or self.image.name


class ProductImage(ImageBase):
    product = models.ForeignKey(BaseProduct, on_delete=models.CASCADE, related_name="images")

    class Meta(ImageBase.Meta):
        constraints = [models.UniqueConstraint(fields=["product"], condition=Q(is_default=True),
                                               name="one_default_product_image")]


class ProjectImage(ImageBase):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="images")

    class Meta(ImageBase.Meta):
        constraints = [models.UniqueConstraint(fields=["project"], condition=Q(is_default=True),
                                               name="one_default_project_image")]


class StockLevel(models.Model):
    """On hand and reserved for one stocked product. Written only by the stock services, under
    a row lock; the database refuses negative stock whatever the code does."""

    product = models.OneToOneField(BaseProduct, on_delete=models.CASCADE, related_name="stock",
                                   primary_key=True)
    on_hand = models.DecimalField(max_digits=14, decimal_places=3, default=Decimal("0"))
    reserved = models.DecimalField(max_digits=14, decimal_places=3, default=Decimal("0"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        permissions = [("adjust_stock", "Can receive and adjust stock")]
        constraints = [
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="stock_on_hand_not_negative"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="stock_reserved_not_negative"),
            models.CheckConstraint(condition=Q(reserved__lte=F("on_hand")),
                                   name="stock_reserved_within_on_hand"),
        ]

    def __str__(self) -> str:
        return f"{self.on_hand} on hand, {self.reserved} reserved"

    @property
    def available(self) -> Decimal:
        return self.on_hand - self.reserved


class MovementKind(models.TextChoices):
    RECEIPT = "receipt", _("Receipt")
    ADJUSTMENT = "adjustment", _("Adjustment")
    RESERVATION = "reservation", _("Reservation")
    RELEASE = "release", _("Release")
    SALE = "sale", _("Sale")
    RETURN = "return", _("Return")


class StockMovement(models.Model):
    """The ledger. `on_hand_delta` sums to the level's on hand; `reserved_delta` to reserved."""

    product = models.ForeignKey(BaseProduct, on_delete=models.PROTECT, related_name="movements")
    kind = models.CharField(max_length=12, choices=MovementKind.choices)
    on_hand_delta = models.DecimalField(max_digits=14, decimal_places=3, default=Decimal("0"))
    reserved_delta = models.DecimalField(max_digits=14, decimal_places=3, default=Decimal("0"))
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    reference = models.CharField(_("reference"), max_length=64, blank=True,
                                 help_text=_("e.g. the order number"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                           blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["product", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.on_hand_delta:+} / {self.reserved_delta:+}"


class ImportState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    VALIDATING = "validating", _("Validating")
    IMPORTING = "importing", _("Importing")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ImportJob(models.Model):
    """A CSV import of products that runs in the background (catalog.services.csv_io): the
    uploaded file, where the run stands, and its outcome. Progress is written from another
    database connection while the import's transaction is open (docs/decisions.md)."""

    # Checking the lines is this share of the progress bar, writing them the rest: on 2,000
    # new goods, validation takes about 40 % of the run (docs/benchmarks.md).
    VALIDATION_SHARE = 40
    # Without news for this long, a running job has most likely lost its worker (a restart).
    STALLED_AFTER = timedelta(minutes=10)
    _BADGES = {ImportState.QUEUED: "pending", ImportState.VALIDATING: "processing",
               ImportState.IMPORTING: "processing", ImportState.DONE: "completed",
               ImportState.FAILED: "failed"}

    kind = models.CharField(_("kind"), max_length=20)
    file_name = models.CharField(_("file"), max_length=255)
    # The uploaded file itself (bounded by the import's size limit): in the row, so a worker on
    # another machine reads it without shared file storage. Emptied once the job has ended.
    content = models.BinaryField(default=b"", editable=False)
    # The uploader's language: the worker writes the problems found in it.
    language = models.CharField(max_length=10, blank=True)
    state = models.CharField(_("state"), max_length=12, choices=ImportState.choices,
                             default=ImportState.QUEUED)
    total_rows = models.PositiveIntegerField(_("lines"), default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    errors = models.JSONField(default=list, blank=True)  # [{"line": 7 or null, "message": ...}]
    warnings = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("by"))
    created_at = models.DateTimeField(_("uploaded"), default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        # Who may see and start imports is catalog.import_products: no per-model permissions.
        default_permissions = ()

    def __str__(self) -> str:
        return self.file_name

    @property
    def kind_label(self) -> str:
        model = PRODUCT_KINDS.get(self.kind)
        return str(model.KIND_LABEL) if model else self.kind

    @property
    def is_running(self) -> bool:
        return self.state in (ImportState.QUEUED, ImportState.VALIDATING, ImportState.IMPORTING)

    @property
    def is_stalled(self) -> bool:
        return self.is_running and timezone.now() - self.updated_at > self.STALLED_AFTER

    @property
    def badge(self) -> str:
        """The status badge's colour class (UI.md)."""
        return self._BADGES[self.state]

    @property
    def percent(self) -> int:
        """The whole run as one bar: checking the lines, then writing them."""
        if self.state == ImportState.DONE:
            return 100
        if not self.total_rows or self.state not in (ImportState.VALIDATING,
                                                     ImportState.IMPORTING):
            return 0
        done = min(self.processed_rows, self.total_rows) / self.total_rows
        if self.state == ImportState.VALIDATING:
            return int(done * self.VALIDATION_SHARE)
        return self.VALIDATION_SHARE + int(done * (100 - self.VALIDATION_SHARE))
