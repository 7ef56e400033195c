"""One pagination for every list: page numbers in the URL, "1-25 of 1,204" and page links."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import QueryDict

PER_PAGE = 25


@dataclass
class PageInfo:
    items: list
    number: int
    num_pages: int
    count: int
    start: int
    end: int
    page_numbers: list[int | None]
    query: QueryDict

    def url_for(self, number: int) -> str:
        query = self.query.copy()
        query["page"] = str(number)
        return f"?{query.urlencode()}"

    @property
    def links(self) -> list[tuple[int | None, str]]:
        """(number, url) pairs; number None is an ellipsis."""
        return [(n, self.url_for(n) if n else "") for n in self.page_numbers]

    @property
    def previous_url(self) -> str | None:
        return self.url_for(self.number - 1) if self.number > 1 else None

    @property
    def next_url(self) -> str | None:
        return self.url_for(self.number + 1) if self.number < self.num_pages else None


class DeferredJoinPaginator(Paginator):
    """For long lists whose rows join other tables: the page's ids are picked from the sorted,
    filtered list first (an index walk, the skipped rows never joined), then only those rows
    are read with their joins, in one statement (`WHERE id IN (SELECT id ... LIMIT/OFFSET)`).
    Page 50 of 10,000 orders joined every one of the 1,225 skipped rows to its customer."""

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        ids = self.object_list.values("pk")[bottom:bottom + self.per_page]
        return self._get_page(self.object_list.filter(pk__in=ids), number, self)


def paginate(qs: QuerySet, *, page: int | None, query: QueryDict, per_page: int = PER_PAGE,
             deferred_join: bool = False) -> PageInfo:
    paginator = (DeferredJoinPaginator if deferred_join else Paginator)(qs, per_page)
    page_obj = paginator.get_page(page or 1)
    number, total = page_obj.number, paginator.num_pages
    links: list[int | None] = []
    for n in range(1, total + 1):
        if n in (1, total) or abs(n - number) <= 2:
            links.append(n)
        elif links and links[-1] is not None:
            links.append(None)  # an ellipsis
    return PageInfo(
        items=list(page_obj.object_list),
        number=number,
        num_pages=total,
        count=paginator.count,
        start=page_obj.start_index(),
        end=page_obj.end_index(),
        page_numbers=links,
        query=query,
    )
