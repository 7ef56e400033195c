"""Stock: the only writers of StockLevel and StockMovement.

Every service locks the levels it touches (`SELECT ... FOR UPDATE`, in product-id order so two
orders with the same products never deadlock), checks, writes the level and one movement per
product in the same transaction. Invariant (checked by `manage.py stock_audit`): on hand equals
the sum of `on_hand_delta`, reserved the sum of `reserved_delta`, neither below zero.

Real-estate lots follow the same calls through their availability: reserving a lot moves it
from available to reserved (an optioned or sold lot is refused), committing sells it,
releasing makes it available again.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from catalog.errors import CatalogError, InsufficientStock, LotUnavailable
from catalog.models import (
    BaseProduct,
    LotAvailability,
    MovementKind,
    RealEstateLot,
    StockLevel,
    StockMovement,
)
from streams.events import acting, record

if TYPE_CHECKING:
    from tenants.accounts.models import User

ZERO = Decimal("0")
Lines = Sequence[tuple[BaseProduct, Decimal]]


def _quantity(value) -> Decimal:
    quantity = Decimal(str(value))
    if not quantity.is_finite() or quantity <= 0:
        raise CatalogError(_("The quantity must be more than zero."), field="quantity")
    return quantity


def _merge(lines: Lines) -> list[tuple[int, Decimal, BaseProduct]]:
    """Same product twice -> one line; sorted by product id (the lock order)."""
    merged: dict[int, tuple[Decimal, BaseProduct]] = {}
    for product, quantity in lines:
        q = _quantity(quantity)
        previous = merged.get(product.pk, (ZERO, product))[0]
        merged[product.pk] = (previous + q, product)
    return [(pk, q, p) for pk, (q, p) in sorted(merged.items())]


def _lock_levels(product_ids: list[int]) -> dict[int, StockLevel]:
    levels = StockLevel.objects.select_for_update().filter(product_id__in=product_ids)
    return {level.product_id: level for level in levels.order_by("product_id")}


def _lock_lots(product_ids: list[int]) -> dict[int, RealEstateLot]:
    lots = RealEstateLot.objects.select_for_update(of=("self", "baseproduct_ptr")).filter(
        pk__in=product_ids).order_by("pk")
    return {lot.pk: lot for lot in lots}


def _record(product_id: int, kind: str, *, on_hand: Decimal = ZERO, reserved: Decimal = ZERO,
            by: User | None, reason: str = "", reference: str = "") -> StockMovement:
    return StockMovement.objects.create(
        product_id=product_id, kind=kind, on_hand_delta=on_hand, reserved_delta=reserved,
        by=by if by is not None and by.pk else None, reason=reason[:255], reference=reference[:64],
    )


def _lot_acting(by: User | None, reference: str):
    """Who moves a lot, and for what (an order's number): on the lot's timeline, with the
    transition streams records."""
    return acting(by, data={"reference": reference} if reference else None)


def _stock_or_error(levels: dict[int, StockLevel], pk: int, product: BaseProduct) -> StockLevel:
    level = levels.get(pk)
    if level is None:
        raise CatalogError(_("%(product)s is not stocked.") % {"product": product.name})
    return level


def _split(lines: Lines):
    merged = _merge(lines)
    lot_ids = set(RealEstateLot.objects.filter(pk__in=[pk for pk, _q, _p in merged])
                  .values_list("pk", flat=True))
    stocked = [(pk, q, p) for pk, q, p in merged if pk not in lot_ids]
    lots = [(pk, q, p) for pk, q, p in merged if pk in lot_ids]
    return stocked, lots


def _add_on_hand(product: BaseProduct, quantity, kind: str, *, by: User | None, reason: str,
                 reference: str) -> StockLevel:
    q = _quantity(quantity)
    level = _stock_or_error(_lock_levels([product.pk]), product.pk, product)
    level.on_hand += q
    level.save(update_fields=["on_hand", "updated_at"])
    _record(product.pk, kind, on_hand=q, by=by, reason=reason, reference=reference)
    record(subject=product, actor=by,
           verb="stock_returned" if kind == MovementKind.RETURN else "stock_received",
           data={"quantity": str(q), "reason": reason[:255], "reference": reference[:64]})
    return level


@transaction.atomic
def stock_receive(*, product: BaseProduct, quantity, by: User | None, reason: str = "",
                  reference: str = "") -> StockLevel:
    return _add_on_hand(product, quantity, MovementKind.RECEIPT, by=by, reason=reason,
                        reference=reference)


@transaction.atomic
def stock_return(*, product: BaseProduct, quantity, by: User | None, reference: str = "",
                 reason: str = "") -> StockLevel:
    return _add_on_hand(product, quantity, MovementKind.RETURN, by=by, reason=reason,
                        reference=reference)


@transaction.atomic
def stock_adjust(*, product: BaseProduct, counted, by: User | None, reason: str) -> StockLevel:
    """Set on hand to what was counted (inventory). The reason is mandatory; the movement
    records the difference. Never below what is reserved for orders."""
    reason = (reason or "").strip()
    if not reason:
        raise CatalogError(_("Say why the stock changes (e.g. “inventory count”, “breakage”)."),
                           field="reason")
    counted = Decimal(str(counted))
    if not counted.is_finite() or counted < 0:
        raise CatalogError(_("The counted quantity cannot be negative."), field="counted")
    level = _stock_or_error(_lock_levels([product.pk]), product.pk, product)
    if counted < level.reserved:
        raise CatalogError(
            _("%(reserved)s are reserved for orders: the count cannot be lower. Release or ship "
              "those orders first.") % {"reserved": f"{level.reserved.normalize():f}"},
            field="counted")
    delta = counted - level.on_hand
    if delta == 0:
        return level
    level.on_hand = counted
    level.save(update_fields=["on_hand", "updated_at"])
    _record(product.pk, MovementKind.ADJUSTMENT, on_hand=delta, by=by, reason=reason)
    record(subject=product, verb="stock_adjusted", actor=by,
           data={"delta": str(delta), "counted": str(counted), "reason": reason[:255]})
    return level


@transaction.atomic
def stock_reserve(*, lines: Lines, by: User | None, reference: str = "") -> None:
    """Reserve every line or none: raises InsufficientStock (or LotUnavailable) naming the
    first product short, and then nothing is reserved."""
    stocked, lots = _split(lines)
    levels = _lock_levels([pk for pk, _q, _p in stocked])
    locked_lots = _lock_lots([pk for pk, _q, _p in lots])
    for pk, q, product in stocked:
        level = _stock_or_error(levels, pk, product)
        if level.available < q:
            raise InsufficientStock(product_name=product.name, requested=q,
                                    available=level.available)
    for pk, q, _product in lots:
        lot = locked_lots[pk]
        if q != 1 or not can_proceed(lot.reserve):
            raise LotUnavailable(_("Lot %(lot)s is %(state)s: it cannot be reserved.")
                                 % {"lot": lot.name, "state": lot.get_availability_display()
                                    .lower()})
    for pk, q, _product in stocked:
        level = levels[pk]
        level.reserved += q
        level.save(update_fields=["reserved", "updated_at"])
        _record(pk, MovementKind.RESERVATION, reserved=q, by=by, reference=reference)
    for pk, _q, _product in lots:
        lot = locked_lots[pk]
        with _lot_acting(by, reference):
            lot.reserve()
        lot.save(update_fields=["availability", "option_expires_at"])
        _record(pk, MovementKind.RESERVATION, reserved=Decimal("1"), by=by, reference=reference)


@transaction.atomic
def stock_release(*, lines: Lines, by: User | None, reference: str = "") -> None:
    """Give reserved quantities back (an order cancelled before shipping)."""
    stocked, lots = _split(lines)
    levels = _lock_levels([pk for pk, _q, _p in stocked])
    locked_lots = _lock_lots([pk for pk, _q, _p in lots])
    for pk, q, product in stocked:
        level = _stock_or_error(levels, pk, product)
        if level.reserved < q:
            raise CatalogError(_("Only %(reserved)s of %(product)s are reserved.")
                               % {"reserved": f"{level.reserved.normalize():f}",
                                  "product": product.name})
        level.reserved -= q
        level.save(update_fields=["reserved", "updated_at"])
        _record(pk, MovementKind.RELEASE, reserved=-q, by=by, reference=reference)
    for pk, _q, product in lots:
        lot = locked_lots[pk]
        if not can_proceed(lot.release):
            raise LotUnavailable(_("Lot %(lot)s is not reserved.") % {"lot": product.name})
        was_reserved = lot.availability == LotAvailability.RESERVED
        with _lot_acting(by, reference):
            lot.release()
        lot.save(update_fields=["availability", "option_expires_at"])
        _record(pk, MovementKind.RELEASE, reserved=Decimal("-1") if was_reserved else ZERO,
                by=by, reference=reference)


@transaction.atomic
def stock_commit(*, lines: Lines, by: User | None, reference: str = "") -> None:
    """Turn reservations into a sale (an order ships): on hand and reserved both go down."""
    stocked, lots = _split(lines)
    levels = _lock_levels([pk for pk, _q, _p in stocked])
    locked_lots = _lock_lots([pk for pk, _q, _p in lots])
    for pk, q, product in stocked:
        level = _stock_or_error(levels, pk, product)
        if level.reserved < q:
            raise CatalogError(_("Only %(reserved)s of %(product)s are reserved: reserve before "
                                 "shipping.") % {"reserved": f"{level.reserved.normalize():f}",
                                                  "product": product.name})
        level.reserved -= q
        level.on_hand -= q
        level.save(update_fields=["reserved", "on_hand", "updated_at"])
        _record(pk, MovementKind.SALE, on_hand=-q, reserved=-q, by=by, reference=reference)
    for pk, _q, product in lots:
        lot = locked_lots[pk]
        if not can_proceed(lot.sell):
            raise LotUnavailable(_("Lot %(lot)s must be reserved before it is sold.")
                                 % {"lot": product.name})
        with _lot_acting(by, reference):
            lot.sell()
        lot.save(update_fields=["availability"])
        _record(pk, MovementKind.SALE, reserved=Decimal("-1"), by=by, reference=reference)


@transaction.atomic
def lot_option(*, lot: RealEstateLot, until, by: User | None, reference: str = "") -> RealEstateLot:
    """Hold an available lot for a prospect until a date (no stock quantity involved)."""
    lot = _lock_lots([lot.pk])[lot.pk]
    if not can_proceed(lot.option):
        raise LotUnavailable(_("Lot %(lot)s is %(state)s: it cannot be optioned.")
                             % {"lot": lot.name, "state": lot.get_availability_display().lower()})
    with _lot_acting(by, reference):
        lot.option(until=until)
    lot.save(update_fields=["availability", "option_expires_at"])
    _record(lot.pk, MovementKind.RESERVATION, by=by, reference=reference,
            reason=_("Option until %(date)s") % {"date": f"{until:%Y-%m-%d}"})
    return lot


def stock_audit() -> list[str]:
    """Problems found: levels that disagree with their ledger, or negative values."""
    sums = {row["product_id"]: row for row in StockMovement.objects.values("product_id").annotate(
        on_hand=Sum("on_hand_delta"), reserved=Sum("reserved_delta"))}
    problems = []
    for level in StockLevel.objects.select_related("product"):
        ledger = sums.get(level.product_id, {"on_hand": ZERO, "reserved": ZERO})
        if level.on_hand != (ledger["on_hand"] or ZERO) or level.reserved != (ledger["reserved"]
                                                                                or ZERO):
            problems.append(
                f"{level.product.sku}: level {level.on_hand}/{level.reserved} "
                f"but ledger {ledger['on_hand']}/{ledger['reserved']} (on hand/reserved)")
        if level.on_hand < 0 or level.reserved < 0 or level.reserved > level.on_hand:
            problems.append(f"{level.product.sku}: impossible level {level.on_hand}/{level.reserved}")
    return problems


@transaction.atomic
def lots_release_expired_options(*, now=None) -> int:
    """Options whose date has passed make their lots available again (periodic task)."""
    now = now or timezone.now()
    expired = list(RealEstateLot.objects.select_for_update(of=("self", "baseproduct_ptr"))
                   .filter(availability=LotAvailability.OPTIONED, option_expires_at__lt=now)
                   .order_by("pk"))
    for lot in expired:
        with acting(None, message=_("Option expired")):
            lot.release()
        lot.save(update_fields=["availability", "option_expires_at"])
        _record(lot.pk, MovementKind.RELEASE, by=None, reason=_("Option expired"))
    return len(expired)
