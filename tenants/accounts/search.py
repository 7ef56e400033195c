"""The dashboard's global search (the box in the top bar of every staff page). Each app
declares what it finds on its AppConfig, `dashboard_search`: dotted paths to finders
`(request, q) -> SearchGroup | None` (None when the user's role may not see that kind of
thing), so tenants never imports a domain app. A finder runs one query for at most LIMIT + 1
rows: the page costs the same whatever the shop holds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.urls import reverse

LIMIT = 5
MIN_LENGTH = 2
MAX_LENGTH = 100


@dataclass(frozen=True)
class SearchHit:
    label: str
    url: str
    detail: str = ""
    status: str = ""  # a badge (its colour by status name, as everywhere)
    status_label: str = ""


@dataclass(frozen=True)
class SearchGroup:
    title: str
    hits: list[SearchHit]
    more_url: str = ""  # the kind's own list, filtered by the same words
    has_more: bool = False
    position: int = 50  # groups are shown in this order


def search_group(rows: QuerySet, hit: Callable[[object], SearchHit], *, title: str, q: str,
                 list_url: str, position: int) -> SearchGroup:
    """A group from the first LIMIT + 1 rows of a query (the extra one says there are more);
    "more" leads to the kind's own list (URL name `list_url`) filtered by the same words."""
    rows = list(rows[:LIMIT + 1])
    return SearchGroup(title=title, hits=[hit(row) for row in rows[:LIMIT]],
                       more_url=f"{reverse(list_url)}?{urlencode({'q': q})}",
                       has_more=len(rows) > LIMIT, position=position)
