"""Every list of the shop API is paginated the same way (settings.REST_FRAMEWORK):
`?page=<n>` (from 1) and `?page_size=<n>` (25 by default, at most 100), answered as
`{"count": <total>, "next": <url or null>, "previous": <url or null>, "results": [...]}`.
A page past the end is a 404 `{"detail": "Invalid page."}`; a `page_size` that is not a
whole number from 1 is a 400 `{"errors": {"page_size": [...]}}` (DRF would silently ignore it)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination


class PagePagination(PageNumberPagination):
    page_size_query_param = "page_size"
    # Bounded: one request never makes the server build more than this many rows.
    max_page_size = 100

    def get_page_size(self, request) -> int | None:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None and not (raw.isascii() and raw.isdigit() and int(raw) > 0):
            raise ValidationError({self.page_size_query_param: [
                _("Give a whole number of rows per page, from 1 to %(max)s.")
                % {"max": self.max_page_size}]})
        return super().get_page_size(request)
