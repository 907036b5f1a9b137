"""Client metadata never reaches the app; only the company-network flag does."""

from __future__ import annotations

import logging

import pytest
from flask import Flask, request

from web.metadata import (
    ENVIRON_KEY,
    StripClientMetadata,
    client_address,
    from_company_network,
    install_no_logging,
    parse_address,
)

CANARY_IP = "203.0.113.77"
CANARY_IP6 = "2001:db8:dead:beef::77"
CANARY_UA = "CanaryAgent/9.9 (canary-user-agent-string)"
COMPANY = ["10.0.0.0/8", "192.0.2.0/24", "2001:db8:c0::/48"]


def make_app(trusted_proxies: int = 0) -> tuple[Flask, dict]:
    app = Flask("metadata")
    seen: dict = {}

    @app.route("/", methods=["GET", "POST"])
    def index() -> str:
        environ = request.environ
        # Everything the app could ever look at, flattened to text.
        seen["dump"] = repr(sorted((k, repr(v)) for k, v in environ.items()))
        seen["remote_addr"] = request.remote_addr
        seen["access_route"] = list(request.access_route)
        seen["user_agent"] = request.user_agent.string
        seen["flag"] = from_company_network()
        seen["keys"] = set(environ)
        assert CANARY_IP not in seen["dump"]
        assert CANARY_IP6 not in seen["dump"]
        assert "canary" not in seen["dump"].lower()
        return "ok"

    app.wsgi_app = StripClientMetadata(  # type: ignore[method-assign]
        app.wsgi_app, company_networks=COMPANY, trusted_proxies=trusted_proxies
    )
    return app, seen


CANARY_HEADERS = {
    "User-Agent": CANARY_UA,
    "X-Forwarded-For": f"{CANARY_IP}, {CANARY_IP6}",
    "X-Real-IP": CANARY_IP,
    "Forwarded": f'for="{CANARY_IP}";proto=https',
    "CF-Connecting-IP": CANARY_IP,
    "True-Client-IP": CANARY_IP,
    "X-Client-IP": CANARY_IP,
    "Client-IP": CANARY_IP,
    "X-Cluster-Client-IP": CANARY_IP,
    "Via": "1.1 canary-proxy",
    "From": "canary@example.org",
    "Referer": "https://intranet.example/canary",
    "Sec-CH-UA": '"Canary";v="1"',
    "Sec-CH-UA-Platform": '"CanaryOS"',
    "Sec-CH-UA-Mobile": "?0",
}


@pytest.mark.parametrize("trusted_proxies", [0, 1, 2])
@pytest.mark.parametrize("method", ["get", "post"])
def test_canaries_never_reach_the_app(trusted_proxies: int, method: str) -> None:
    app, seen = make_app(trusted_proxies)
    client = app.test_client()
    response = getattr(client, method)(
        "/",
        headers=CANARY_HEADERS,
        environ_base={"REMOTE_ADDR": CANARY_IP, "REMOTE_PORT": 51234},
    )
    assert response.status_code == 200
    assert seen["remote_addr"] == "0.0.0.0"
    assert seen["access_route"] == ["0.0.0.0"]
    assert seen["user_agent"] == ""
    assert "REMOTE_PORT" not in seen["keys"]
    assert not any(k.startswith("HTTP_SEC_CH_") for k in seen["keys"])
    for key in ("HTTP_X_FORWARDED_FOR", "HTTP_USER_AGENT", "HTTP_VIA", "HTTP_REFERER"):
        assert key not in seen["keys"]


def test_url_building_headers_are_kept() -> None:
    app, seen = make_app()
    app.test_client().get("/", headers={"X-Forwarded-Proto": "https", "Accept-Language": "zh"})
    assert "HTTP_X_FORWARDED_PROTO" in seen["keys"]
    assert "HTTP_ACCEPT_LANGUAGE" in seen["keys"]


@pytest.mark.parametrize(
    ("remote_addr", "expected"),
    [
        ("10.1.2.3", True),
        ("192.0.2.200", True),
        ("198.51.100.1", False),
        (CANARY_IP, False),
        ("2001:db8:c0::1", True),
        ("2001:db8:c1::1", False),
        ("::ffff:10.9.9.9", True),
        ("::1", False),
        ("not-an-address", False),
        ("", False),
        ("10.0.0.999", False),
    ],
)
def test_flag_from_remote_addr(remote_addr: str, expected: bool) -> None:
    app, seen = make_app(trusted_proxies=0)
    # X-Forwarded-For is ignored without trusted proxies: a client could forge it.
    app.test_client().get(
        "/",
        headers={"X-Forwarded-For": "10.0.0.1"},
        environ_base={"REMOTE_ADDR": remote_addr},
    )
    assert seen["flag"] is expected


@pytest.mark.parametrize(
    ("xff", "expected"),
    [
        ("10.1.2.3", True),
        ("198.51.100.1", False),
        # The client may prepend anything; only the entry the proxy appended counts.
        ("10.0.0.1, 198.51.100.1", False),
        ("198.51.100.1, 10.0.0.1", True),
        ("2001:db8:c0::5", True),
        ("[2001:db8:c0::5]:443", True),
        ("10.2.3.4:5555", True),
        ("2001:db8:ffff::5", False),
        ("garbage", False),
        ("", False),
        (None, False),
    ],
)
def test_flag_with_one_trusted_proxy(xff: str | None, expected: bool) -> None:
    app, seen = make_app(trusted_proxies=1)
    headers = {} if xff is None else {"X-Forwarded-For": xff}
    # The proxy's own address is inside the company range but must not count.
    app.test_client().get("/", headers=headers, environ_base={"REMOTE_ADDR": "10.255.0.1"})
    assert seen["flag"] is expected


def test_two_trusted_proxies_take_second_from_right() -> None:
    environ = {"HTTP_X_FORWARDED_FOR": "1.1.1.1, 10.0.0.5, 198.51.100.9"}
    assert str(client_address(environ, 2)) == "10.0.0.5"
    assert client_address({"HTTP_X_FORWARDED_FOR": "10.0.0.5"}, 2) is None


def test_parse_address_forms() -> None:
    assert str(parse_address("::ffff:192.0.2.1")) == "192.0.2.1"
    assert str(parse_address("fe80::1%eth0")) == "fe80::1"
    assert parse_address("1.2.3") is None


def test_negative_trusted_proxies_rejected() -> None:
    with pytest.raises(ValueError):
        StripClientMetadata(Flask("x").wsgi_app, trusted_proxies=-1)


def test_flag_defaults_to_false_without_middleware() -> None:
    app = Flask("plain")
    with app.test_request_context("/"):
        assert ENVIRON_KEY not in request.environ
        assert from_company_network() is False


def test_install_no_logging_disables_werkzeug_logger() -> None:
    logger = logging.getLogger("werkzeug")
    before = logger.disabled
    try:
        install_no_logging(Flask("x"))
        assert logger.disabled
    finally:
        logger.disabled = before


def test_fewer_proxies_than_configured_is_warned_about_once_without_the_address(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("web.metadata._warned", set())  # as in a new process
    # Configured for two proxies behind one: a plain browser's request arrives with one entry.
    # Nothing is trusted, and the operator is told (once), with the counts but no address.
    app, seen = make_app(trusted_proxies=2)
    client = app.test_client()
    with caplog.at_level(logging.WARNING, logger="candor.portal"):
        for _ in range(3):
            client.get("/", headers={"X-Forwarded-For": CANARY_IP},
                       environ_base={"REMOTE_ADDR": "10.255.0.1"})
    assert seen["flag"] is False
    warnings = [r for r in caplog.records if "trusted_proxies = 2" in r.getMessage()]
    assert len(warnings) == 1
    assert "through 1 proxies" in warnings[0].getMessage()
    assert CANARY_IP not in caplog.text and "10.255.0.1" not in caplog.text
