"""HTML to PDF for the documents the console and the command line produce (the periodic
review report, the case file export), with WeasyPrint.

WeasyPrint lays out with Pango and embeds the subset of each font it uses, so a Chinese
document reads the same in any viewer; it needs the system's Pango and a CJK font (Debian:
libpango-1.0-0, libpangoft2-1.0-0, fonts-noto-cjk; README, "Install"). It is imported when a
PDF is first made, so that a console without Pango still starts (and says what is missing
when asked for a PDF). It fetches nothing: the documents carry their styles and charts
inline, and the only URLs it may open are `data:` ones, so that no text in a document can
make the renderer reach a file or the network.
"""

from __future__ import annotations

from typing import Any

#: The font stack of every document: Noto Sans CJK for Chinese (and Latin), then whatever the
#: system has. The documents' stylesheets use this.
FONT_STACK = '"Noto Sans CJK SC", "Noto Sans SC", "Noto Sans", "DejaVu Sans", sans-serif'


class PdfUnavailable(RuntimeError):
    """WeasyPrint cannot run here (Pango missing): the message says what to install."""


def _weasyprint() -> Any:
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: a system library could not be loaded
        raise PdfUnavailable(
            "PDF documents need Pango (Debian: apt-get install libpango-1.0-0 "
            f"libpangoft2-1.0-0 fonts-noto-cjk): {exc}") from None
    return weasyprint


def require_pdf() -> None:
    """PdfUnavailable (saying what to install) unless WeasyPrint can run here: asked before
    work that would be wasted, or audited, without the PDF at its end."""
    _weasyprint()


def html_to_pdf(html: str, *, title: str | None = None) -> bytes:
    """The PDF of a complete, self-contained HTML document (styles and images inline).
    `title` overrides the document's <title> in the PDF's metadata. PdfUnavailable when
    WeasyPrint cannot run on this system."""
    weasyprint = _weasyprint()
    fetcher = weasyprint.urls.URLFetcher(allowed_protocols={"data"}, allow_redirects=False)
    document = weasyprint.HTML(string=html, url_fetcher=fetcher).render()
    if title is not None:
        document.metadata.title = title
    pdf: bytes = document.write_pdf()
    return pdf
