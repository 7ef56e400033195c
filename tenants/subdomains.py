"""Subdomain rules for shop addresses (`<subdomain>.<BASE_DOMAIN>`)."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

MIN_LENGTH = 3
MAX_LENGTH = 40
_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")

# Names a shop may not take: platform hosts, infrastructure, and names that invite phishing.
RESERVED = frozenset(
    """
    www www1 www2 admin administrator api app apps assets auth billing blog cdn console dashboard
    demo-platform dev docs email ftp help host imap info localhost login logout mail media mx news
    ns ns1 ns2 platform pop pop3 portal root secure shop shops signup smtp sso staff static status
    stripe support system test webhook webhooks webmail
    """.split()
)


def normalize_subdomain(value: str) -> str:
    return (value or "").strip().lower()


def subdomain_problem(value: str) -> str | None:
    """Why this (normalised) subdomain cannot be used, or None if its form is fine.
    Availability is checked separately, against the database."""
    if not value:
        return _("Choose the address of your shop.")
    if len(value) < MIN_LENGTH:
        return _("At least %(n)d characters.") % {"n": MIN_LENGTH}
    if len(value) > MAX_LENGTH:
        return _("At most %(n)d characters.") % {"n": MAX_LENGTH}
    if not _PATTERN.match(value):
        return _(
            "Use lowercase letters a-z, digits and hyphens; a hyphen cannot start or end it."
        )
    if "--" in value:
        return _("Two hyphens in a row are not allowed.")
    if value in RESERVED:
        return _("“%(name)s” is reserved. Please choose another address.") % {"name": value}
    return None
