"""One pagination for every list: page numbers in the URL, "1-25 of 1,204" and page links."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.db.models.expressions import Expression, RawSQL
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


def _page_numbers(number: int, total: int) -> list[int | None]:
    """First, last and two either side of the current page; None is an ellipsis. Computed
    from the window, not by walking every page (a long list has thousands)."""
    shown = sorted({1, total, *range(max(1, number - 2), min(total, number + 2) + 1)})
    links: list[int | None] = []
    for n in shown:
        if links and n - links[-1] > 1:
            links.append(None)
        links.append(n)
    return links


def _deferred_join_page(qs: QuerySet, number: int, per_page: int, fields: tuple[str, ...],
                        total: Expression | None) -> tuple[list, int]:
    """The page's rows and the list's total in one statement, for long lists whose rows join
    other tables: the page's ids are picked from the sorted, filtered list first (an index
    walk; the skipped rows are never joined: page 50 of 10,000 orders used to join every one
    of the 1,225 rows before it), then only those rows are read with their joins, and the
    total comes along as a scalar subquery instead of a COUNT round trip of its own.

    Rows are models, or dicts of `fields` when given (`qs` itself stays a queryset of models:
    `.values()` with related columns would join them into the ids and the count too). Empty:
    the page is past the end or the list is empty; the caller then counts. `total`: an
    expression that knows the total without counting the rows (kept counts)."""
    bottom = (number - 1) * per_page
    ids = qs.values("pk")[bottom:bottom + per_page]
    page = qs.filter(pk__in=ids)
    page = page.values(*fields) if fields else page
    if any(a.contains_aggregate for a in qs.query.annotations.values()):
        # Grouped (e.g. customers with their order count): counted by Django, which leaves
        # out the aggregates no filter needs; folded in, they would join every row.
        count = qs.count()
        return (list(page) if count else []), count
    if total is None:
        # Django's own compiled SQL and parameters for the filtered list, counted in PostgreSQL.
        sql, params = qs.order_by().values("pk").query.sql_with_params()
        total = RawSQL(f"SELECT COUNT(*) FROM ({sql}) AS counted", params)  # noqa: S608, S611
    rows = list(page.annotate(list_total=total))
    if not rows:
        return [], 0
    first = rows[0]
    return rows, first["list_total"] if isinstance(first, dict) else first.list_total


def paginate(qs: QuerySet, *, page: int | None, query: QueryDict, per_page: int = PER_PAGE,
             deferred_join: bool = False, values: tuple[str, ...] = (),
             total: Expression | None = None) -> PageInfo:
    """One page of `qs`. `deferred_join` for long lists whose rows join other tables (see
    `_deferred_join_page`); `values` then reads the rows as dicts of those fields, and `total`
    gives the list's total where something cheaper than a count knows it."""
    if deferred_join:
        number = max(1, int(page or 1))
        items, count = _deferred_join_page(qs, number, per_page, values, total)
        if not items and number > 1:  # past the end: to the last page, as get_page() does
            count = qs.count()
            number = max(1, -(-count // per_page))
            items, count = (_deferred_join_page(qs, number, per_page, values, total) if count
                            else ([], 0))
        num_pages = max(1, -(-count // per_page))
        start = (number - 1) * per_page + 1 if count else 0
        return PageInfo(items=items, number=number, num_pages=num_pages, count=count,
                        start=start, end=start + len(items) - 1 if count else 0,
                        page_numbers=_page_numbers(number, num_pages), query=query)
    paginator = Paginator(qs, per_page)
    page_obj = paginator.get_page(page or 1)
    return PageInfo(
        items=list(page_obj.object_list),
        number=page_obj.number,
        num_pages=paginator.num_pages,
        count=paginator.count,
        start=page_obj.start_index(),
        end=page_obj.end_index(),
        page_numbers=_page_numbers(page_obj.number, paginator.num_pages),
        query=query,
    )
