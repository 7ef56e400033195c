"""The customer's link to a quote: a signed token naming the quote and its secret access key.

A tampered token fails the signature; a token of an older revision names a superseded quote;
each revision gets a new access key, so a link never opens another revision.
"""

from __future__ import annotations

from django.core import signing

from sales.models import Quote

SALT = "sales.quote-link"


def quote_link_token(quote: Quote) -> str:
    return signing.dumps({"q": quote.pk, "k": quote.access_key}, salt=SALT, compress=True)


def quote_from_link(token: str) -> Quote | None:
    """The quote a token names, or None when the token is tampered with or unknown."""
    try:
        payload = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    if not isinstance(payload, dict):
        return None
    quote = Quote.objects.select_related("customer").filter(pk=payload.get("q")).first()
    if quote is None or quote.access_key != payload.get("k"):
        return None
    return quote
