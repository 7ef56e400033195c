"""Customers' tickets in their storefront account (/account/tickets/)."""

from streams.views import work

app_name = "streams_account"
urlpatterns: list = [*getattr(work, "account_urlpatterns", [])]
