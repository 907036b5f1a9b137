"""Pages as a whole: security headers on every kind of response, no scripts and no foreign
URLs anywhere, padding, the company-network warning and the language choice."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import Headers

from core.kdf_slots import KdfSlots
from core.services import Services
from crypto.receipt import format_receipt, generate_receipt
from tests.portal.conftest import (
    ResponseWatch,
    csrf_token,
    header_problems,
    login_via,
    page_problems,
    receipt_of,
    reply_via,
    report_fields,
    submit_report_via,
)
from web.headers import security_headers

BUCKET = 4096


# --- the checks themselves can fail (positive controls) ----------------------------------------


def test_page_scanner_catches_scripts_and_foreign_urls() -> None:
    bad_pages = [
        "<p>x</p><script>alert(1)</script>",
        "<SCRIPT src=/x.js></SCRIPT>",
        '<a href="https://evil.example/">x</a>',
        "<a href='http://evil.example/'>x</a>",
        '<img src="//evil.example/pixel.png">',
        '<form action="https://evil.example/collect">',
        '<link rel="stylesheet" href="http://cdn.example/x.css">',
        '<a href="javascript:alert(1)">x</a>',
        '<body onload="x()">',
        '<meta http-equiv="refresh" content="0;url=https://evil.example">',
        '<iframe src="/x"></iframe>',
        "<a href=https://evil.example>x</a>",
    ]
    for page in bad_pages:
        assert page_problems(page), page
    good = (
        '<a href="/case">x</a><form action="/report"><input value="https://x.example">'
        '<a href="#main">skip</a><p>see https://x.example in text</p>'
    )
    assert page_problems(good) == []


def test_header_check_catches_missing_headers() -> None:
    assert header_problems(Headers(security_headers())) == []
    assert header_problems(Headers(security_headers(allow_same_origin_script=True)))
    for name in security_headers():
        headers = Headers(security_headers())
        del headers[name]
        if name in (
            "Pragma",
            "Cross-Origin-Embedder-Policy",
            "X-DNS-Prefetch-Control",
            "X-Permitted-Cross-Domain-Policies",
        ):
            continue
        assert header_problems(headers), name


# --- every kind of response -------------------------------------------------------------------


def every_response(app: Flask) -> dict[str, object]:
    """One response of each kind the portal produces, keyed by a label."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = app.test_client()
    out: dict[str, object] = {
        "landing": client.get("/"),
        "report form": client.get("/report"),
        "follow-up form": client.get("/follow-up"),
        "static portal css": client.get("/static/portal/portal.css"),
        "static shared css": client.get("/shared-static/web/base.css"),
        "404": client.get("/no/such/page"),
        "404 static": client.get("/static/nope.css"),
        "405": client.put("/report"),
        "language redirect": client.get("/language/zh_CN?next=/report"),
    }
    client.get("/language/en")
    out["400 csrf"] = client.post("/follow-up", data={"receipt": "1"})
    out["400 form"] = submit_report_via(client, report_fields(summary=""))
    receipt_page = submit_report_via(client, files=[("a.txt", b"a")])
    out["receipt"] = receipt_page
    receipt = receipt_of(receipt_page.text)
    out["receipt print"] = client.post(
        "/receipt/print",
        data={"csrf_token": csrf_token(receipt_page.text), "receipt": receipt.replace(" ", "")},
    )
    out["receipt missing"] = client.post(
        "/receipt/print", data={"csrf_token": csrf_token(receipt_page.text), "receipt": "nope"}
    )
    out["400 mistyped"] = login_via(client, "1" * 28)
    out["303 login"] = login_via(client, receipt)
    case = client.get("/case")
    out["case"] = case
    file_id = re.search(r'href="/case/files/(\d+)"', case.text).group(1)
    out["download"] = client.get(f"/case/files/{file_id}")
    out["404 download"] = client.get("/case/files/987654")
    out["303 reply"] = reply_via(client, "hello")
    out["400 reply"] = reply_via(client, "")
    out["303 logout"] = client.post("/case/logout", data={"csrf_token": csrf_token(case.text)})
    out["case without session"] = client.get("/case")
    return out


def test_security_headers_on_every_kind_of_response(
    portal_app: Flask, make_portal: Callable[..., Flask], services: Services
) -> None:
    responses = every_response(portal_app)
    services.kdf_slots = KdfSlots(1, max_wait=0.05)  # (copied into the app's services)
    small = make_portal(max_submission_bytes=1024 * 1024)
    small.config["PROPAGATE_EXCEPTIONS"] = False

    @small.get("/boom")
    def boom() -> str:
        raise RuntimeError("boom")

    client = small.test_client()
    responses["413"] = submit_report_via(client, files=[("big.bin", b"x" * (1024 * 1024 + 1))])
    with services.kdf_slots.slot():  # every Argon2id slot busy: the login is turned away
        responses["429"] = login_via(client, format_receipt(generate_receipt()))
    responses["500"] = client.get("/boom")
    statuses = {label: r.status_code for label, r in responses.items()}
    for code in (200, 303, 400, 404, 405, 413, 429, 500):
        assert code in statuses.values(), (code, statuses)
    assert statuses["static portal css"] == statuses["static shared css"] == 200
    assert statuses["download"] == 200
    for label, response in responses.items():
        assert header_problems(response.headers) == [], (label, response.status_code)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src" not in csp
    assert responses["429"].headers["Retry-After"]
    assert responses["405"].headers["Allow"]


def test_no_page_has_scripts_or_foreign_urls(portal_app: Flask, make_portal) -> None:
    watch: ResponseWatch = portal_app.extensions["tests.response_watch"]
    responses = every_response(portal_app)
    zh = portal_app.test_client()
    zh.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    for path in ("/", "/report", "/follow-up", "/nope"):
        responses[f"zh {path}"] = zh.get(path)
    responses["zh receipt"] = submit_report_via(zh)
    banner = make_portal(company_networks=(ipaddress.ip_network("10.0.0.0/8"),))
    responses["banner"] = banner.test_client().get("/", environ_base={"REMOTE_ADDR": "10.9.9.9"})
    html_pages = 0
    for label, response in responses.items():
        body = (
            response.get_data(as_text=True)
            if response.mimetype != "application/octet-stream"
            else ""
        )
        if response.mimetype == "text/html":
            html_pages += 1
            assert page_problems(body) == [], label
            assert "<script" not in body.lower(), label
            # With these inputs no absolute URL should appear at all, links or text.
            assert not re.search(r"https?://", body), (label, re.findall(r"https?://\S+", body))
    assert html_pages >= 20
    assert watch.html_pages >= html_pages - 6  # the watch saw them too (except "banner" app)
    for css in ("/static/portal/portal.css", "/shared-static/web/base.css"):
        text = portal_app.test_client().get(css).get_data(as_text=True)
        assert text.strip()
        assert "@import" not in text
        for url in re.findall(r"url\(([^)]*)\)", text):
            assert not re.match(r"""\s*['"]?(?:https?:)?//""", url), url


# --- padding -----------------------------------------------------------------------------------


def test_receipt_pages_are_padded_to_the_same_size(portal_app: Flask) -> None:
    lengths = set()
    for _ in range(4):
        client = portal_app.test_client()
        response = submit_report_via(client)
        assert response.status_code == 200
        body = response.get_data()
        assert len(body) % BUCKET == 0
        lengths.add(len(body))
        printed = client.post(
            "/receipt/print",
            data={
                "csrf_token": csrf_token(response.text),
                "receipt": receipt_of(response.text).replace(" ", ""),
            },
        )
        assert len(printed.get_data()) % BUCKET == 0
    assert len(lengths) == 1


@pytest.mark.parametrize("accept, lang", [("en", "en"), ("zh-CN,zh;q=0.9", "zh-CN")])
def test_pages_are_padded_in_both_languages(client: FlaskClient, accept: str, lang: str) -> None:
    for path in ("/", "/report", "/follow-up", "/case", "/nope"):
        response = client.get(path, headers={"Accept-Language": accept})
        assert f'<html lang="{lang}">' in response.text
        assert len(response.get_data()) % BUCKET == 0, path
        assert response.get_data().endswith(b"-->")


def test_downloads_are_not_padded(client: FlaskClient) -> None:
    content = b"exactly these bytes"
    login_via(client, receipt_of(submit_report_via(client, files=[("f.txt", content)]).text))
    file_id = re.search(r'href="/case/files/(\d+)"', client.get("/case").text).group(1)
    assert client.get(f"/case/files/{file_id}").get_data() == content


# --- company network --------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/report", "/follow-up", "/no-such-page"])
def test_company_network_warning(make_portal: Callable[..., Flask], path: str) -> None:
    app = make_portal(
        company_networks=(ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("2001:db8::/32"))
    )
    client = app.test_client()
    inside = client.get(path, environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert 'id="company-network-warning"' in inside.text
    assert "company network" in inside.text
    inside_v6 = client.get(path, environ_base={"REMOTE_ADDR": "2001:db8::5"})
    assert 'id="company-network-warning"' in inside_v6.text
    outside = client.get(path, environ_base={"REMOTE_ADDR": "192.0.2.1"})
    assert 'id="company-network-warning"' not in outside.text
    # A client cannot talk its way in or out with a forwarding header (no trusted proxy).
    spoofed = client.get(
        path, environ_base={"REMOTE_ADDR": "192.0.2.1"}, headers={"X-Forwarded-For": "10.1.2.3"}
    )
    assert 'id="company-network-warning"' not in spoofed.text
    # The address itself never reaches the page.
    assert "10.1.2.3" not in inside.text
    assert len(inside.get_data()) % BUCKET == 0


def test_company_network_warning_in_chinese(make_portal: Callable[..., Flask]) -> None:
    app = make_portal(company_networks=(ipaddress.ip_network("10.0.0.0/8"),))
    page = app.test_client().get(
        "/", environ_base={"REMOTE_ADDR": "10.200.0.1"}, headers={"Accept-Language": "zh-CN"}
    )
    assert 'id="company-network-warning"' in page.text
    assert '<html lang="zh-CN">' in page.text


def test_error_pages_are_in_the_portal_frame(client: FlaskClient) -> None:
    page = client.get("/no-such-page")
    assert page.status_code == 404
    assert "Page not found" in page.text
    assert 'class="language-switch"' in page.text
    assert 'href="/language/zh_CN?next=/"' in page.text  # not back to the missing page
    assert "stores no IP addresses" in page.text  # the portal's footer
    assert "portal/portal.css" in page.text
    # A POST-only URL fetched: the language link leads to a page that exists.
    wrong = client.get("/case/reply")
    assert wrong.status_code == 405
    assert 'href="/language/zh_CN?next=/case"' in wrong.text


def test_no_warning_without_company_networks(client: FlaskClient) -> None:
    page = client.get("/", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert 'id="company-network-warning"' not in page.text


# --- language ---------------------------------------------------------------------------------


def test_accept_language_selects_chinese(client: FlaskClient) -> None:
    page = client.get("/", headers={"Accept-Language": "zh-CN"})
    assert '<html lang="zh-CN">' in page.text
    assert re.search(r"[\u4e00-\u9fff]{4}", page.text)
    for tag in ("zh", "zh-Hans", "zh-SG", "zh-Hans-CN"):
        assert '<html lang="zh-CN">' in client.get("/", headers={"Accept-Language": tag}).text
    for tag in ("en-GB", "fr", "", "*"):
        assert '<html lang="en">' in client.get("/", headers={"Accept-Language": tag}).text


def test_language_link_switches_and_goes_back(client: FlaskClient) -> None:
    landing = client.get("/report", headers={"Accept-Language": "en"})
    assert 'href="/language/zh_CN?next=/report"' in landing.text
    switch = client.get("/language/zh_CN?next=/report")
    assert switch.status_code == 303
    assert switch.headers["Location"] == "/report"
    page = client.get("/report", headers={"Accept-Language": "en"})
    assert '<html lang="zh-CN">' in page.text
    assert 'href="/language/en?next=/report"' in page.text
    # The choice holds on every page, including the submission and the receipt.
    receipt = submit_report_via(client, headers={"Accept-Language": "en"})
    assert '<html lang="zh-CN">' in receipt.text
    back = client.get("/language/en?next=/")
    assert back.status_code == 303
    assert '<html lang="en">' in client.get("/", headers={"Accept-Language": "zh-CN"}).text


def test_pages_answering_a_form_have_no_language_links(client: FlaskClient) -> None:
    """Following a link from a page that answers a form loses what it shows: the receipt
    (shown once), or the reporter's text given back with its errors."""
    receipt = submit_report_via(client)
    assert receipt_of(receipt.text)
    assert "/language/" not in receipt.text
    invalid = submit_report_via(client, report_fields(summary="", what_happened="Kept"))
    assert invalid.status_code == 400 and "Kept" in invalid.text
    assert "/language/" not in invalid.text
    login_via(client, receipt_of(receipt.text))
    refused = reply_via(client, "   ")
    assert refused.status_code == 400
    assert "/language/" not in refused.text
    assert 'href="/language/zh_CN?next=/case"' in client.get("/case").text


@pytest.mark.parametrize(("path", "back"), [
    ("/case/reply", "/case"),  # a form-only URL fetched: 405
    ("/nowhere/at/all", "/"),
    ("/language/en/x", "/"),  # never back to the language switch itself
    ("/static/nope.css", "/"),
    ("/case/" + "a/" * 2000, "/case"),  # a hostile path: bounded work
])
def test_language_links_on_error_pages_lead_to_a_page(
    client: FlaskClient, path: str, back: str
) -> None:
    page = client.get(path)
    assert page.status_code in (404, 405)
    assert f'href="/language/zh_CN?next={back}"' in page.text


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil",
        "javascript:alert(1)",
        "/ok\r\nSet-Cookie: x=1",
    ],
)
def test_language_switch_never_redirects_off_site(client: FlaskClient, target: str) -> None:
    response = client.get("/language/zh_CN", query_string={"next": target})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


def test_unknown_language_is_ignored(client: FlaskClient) -> None:
    response = client.get("/language/xx?next=/follow-up")
    assert response.status_code == 303
    assert response.headers["Location"] == "/follow-up"
    assert '<html lang="en">' in client.get("/").text


def test_case_page_in_chinese(client: FlaskClient, services: Services) -> None:
    receipt = receipt_of(submit_report_via(client).text)
    client.get("/language/zh_CN")
    login_via(client, receipt)
    page = client.get("/case")
    assert '<html lang="zh-CN">' in page.text
    assert 'id="stage"' in page.text
