"""Numbers as people write them, in the visitor's language: `{{ rate|percent }}` prints 20 or
5,5 (never 5.50), `{{ quantity|quantity }}` prints 2 or 1,5 (never 2.000)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template
from django.utils import formats

register = template.Library()


def _plain(value) -> str:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return ""
    return formats.number_format(number.normalize(), use_l10n=True)


@register.filter
def percent(value) -> str:
    return _plain(value)


@register.filter
def quantity(value) -> str:
    return _plain(value)
