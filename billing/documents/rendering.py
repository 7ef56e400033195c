"""HTML to PDF with WeasyPrint, offline: the print stylesheet and the fonts are read from
disk, and any other URL a template might name is refused (a document never reaches the
network, and a customer's text cannot make the server fetch something).

Numbers and dates are formatted here, in the language active when the document is rendered
(`translation.override(shop.locale)` around it): 1 234,56 € in French, 1,234.56 € in English.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import formats, timezone
from weasyprint import CSS, HTML
from weasyprint.urls import URLFetcher

from catalog.pricing import currency_symbol

STYLESHEET = "billing/pdf.css"
ZERO = Decimal("0")


# ---------------------------------------------------------------------------------------------
# Formatting, in the active language
# ---------------------------------------------------------------------------------------------
def money(amount: Decimal | None, currency: str = "EUR") -> str:
    number = formats.number_format(amount or ZERO, 2, use_l10n=True, force_grouping=True)
    return f"{number}\xa0{currency_symbol(currency)}"


def number(value: Decimal | None) -> str:
    """2.000 -> 2, 0.333 -> 0.333 (0,333 in French), 5.50 -> 5.5."""
    value = value or ZERO
    return formats.number_format(value.normalize() if value else ZERO, use_l10n=True,
                                 force_grouping=True)


def day(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = timezone.localtime(value).date()
    return formats.date_format(value, "DATE_FORMAT")


def moment(value: datetime | None) -> str:
    if value is None:
        return ""
    return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")


# ---------------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------------
class LocalOnlyFetcher(URLFetcher):
    """Files under the allowed folders (the print stylesheet's) and data: URIs; nothing else,
    never the network."""

    def __init__(self, roots: tuple[Path, ...]):
        super().__init__(allowed_protocols={"file", "data"})
        self.roots = tuple(root.resolve() for root in roots)

    def fetch(self, url, headers=None):
        scheme = url.split(":", 1)[0].lower()
        if scheme == "file":
            path = Path(url.split("?", 1)[0].removeprefix("file://")).resolve()
            if not any(path.is_relative_to(root) for root in self.roots):
                raise ValueError(f"Documents read only their own files, not {url}")
        elif scheme != "data":
            raise ValueError(f"Documents never fetch from the network: {url}")
        return super().fetch(url, headers)


@dataclass(frozen=True)
class _Assets:
    stylesheet: Path
    fetcher: LocalOnlyFetcher
    css: CSS


@lru_cache(maxsize=1)
def _assets() -> _Assets:
    """Parsed once per process (a fifth of a page's layout time otherwise): the stylesheet does
    not change while the process runs."""
    found = finders.find(STYLESHEET)
    if not found:
        raise RuntimeError(f"The print stylesheet {STYLESHEET} is missing.")
    path = Path(found)
    fetcher = LocalOnlyFetcher((path.parent,))
    return _Assets(stylesheet=path, fetcher=fetcher,
                   css=CSS(filename=str(path), url_fetcher=fetcher))


def render_pdf(template: str, context: dict, *, pdf_variant: str | None = None,
               lang: str = "en") -> bytes:
    """The template rendered to PDF. `pdf_variant="pdf/a-3b"` for archived documents: WeasyPrint
    embeds the fonts it uses (DejaVu, from the system's fontconfig) and the sRGB output
    intent PDF/A asks for."""
    assets = _assets()
    html = render_to_string(template, {**context, "lang": lang})
    document = HTML(string=html, base_url=assets.stylesheet.parent.as_uri() + "/",
                    url_fetcher=assets.fetcher)
    options = {"stylesheets": [assets.css]}
    if pdf_variant:
        options["pdf_variant"] = pdf_variant
    return document.write_pdf(**options)
