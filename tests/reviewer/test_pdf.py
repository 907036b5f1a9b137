"""reviewer.pdf: documents render Chinese and English text, and the renderer fetches nothing
a document names (a report's text is the reporters' and staff's, never trusted)."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from reviewer.pdf import FONT_STACK, html_to_pdf
from tests.reviewer.test_review_report import pdf_text


class _Counter(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        self.hits.append(self.path)
        body = b"p { color: red } /* fetched */"
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    _Counter.hits = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Counter)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_chinese_and_english_text_survive() -> None:
    pdf = html_to_pdf(f"<html><head><style>body {{ font-family: {FONT_STACK} }}</style>"
                      "</head><body><h1>举报处理 Review</h1><p>提前预警 early warning</p>"
                      "</body></html>", title="标题 title")
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    assert "举报处理 Review" in text and "提前预警 early warning" in text


def test_nothing_a_document_names_is_fetched(server: str, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-FILE-CONTENT")
    svg = tmp_path / "image.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg"><text y="20">SVG-FROM-DISK</text>'
                   "</svg>")
    html = (f'<html><head><link rel="stylesheet" href="{server}/style.css">'
            f'<style>@import url("{server}/imported.css"); '
            f'body {{ background: url("{server}/background.png") }}</style></head><body>'
            f'<p>visible</p><img src="{server}/image.png"><img src="file://{svg}">'
            f'<object data="file://{secret}"></object><iframe src="file://{secret}"></iframe>'
            f'<embed src="file://{secret}"><a href="file://{secret}">link</a></body></html>')
    text = pdf_text(html_to_pdf(html))
    assert "visible" in text
    assert _Counter.hits == []
    assert "SECRET-FILE-CONTENT" not in text and "SVG-FROM-DISK" not in text


def test_data_urls_are_rendered() -> None:
    import base64
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40"><text y="20">' \
          b"INLINE-CHART</text></svg>"
    uri = "data:image/svg+xml;base64," + base64.b64encode(svg).decode()
    assert "INLINE-CHART" in pdf_text(html_to_pdf(f'<html><body><img src="{uri}"></body></html>'))
