import json
import re
from pathlib import Path

import pytest

from crypto.errors import KeyFormatError
from crypto.keys import open_sealed, seal_to
from crypto.recovery import (
    export_private_key,
    generate_recovery_key,
    import_private_key,
    public_key_of,
)

VECTORS = json.loads((Path(__file__).parent / "vectors" / "recovery.json").read_text("utf-8"))


@pytest.mark.parametrize("v", VECTORS["recovery"])
def test_known_answers(v: dict) -> None:
    key = bytes.fromhex(v["private_key"])
    assert export_private_key(key) == v["text"]
    assert import_private_key(v["text"]) == key
    assert public_key_of(key).hex() == v["public_key"]


def test_text_shape() -> None:
    text = export_private_key(generate_recovery_key().private_key)
    assert re.fullmatch(r"CANDOR-RECOVERY-1-([A-Z2-7]{4}-){14}[A-Z2-7]{2}", text), text


def test_round_trip_and_use() -> None:
    pair = generate_recovery_key()
    assert public_key_of(pair.private_key) == pair.public_key
    text = export_private_key(pair.private_key)
    assert import_private_key(text) == pair.private_key
    assert open_sealed(import_private_key(text), seal_to(pair.public_key, b"k")) == b"k"


def test_tolerant_of_whitespace_and_case() -> None:
    pair = generate_recovery_key()
    text = export_private_key(pair.private_key)
    groups = text.split("-")
    variants = [
        text.lower(),
        "  " + text + "\n",
        " ".join(groups[:3]) + "-" + " ".join(groups[3:]),  # spaces mixed in
        "-".join(groups[:3]) + "-" + "\n".join(groups[3:]),  # line breaks as on paper
        text.replace("-", "-\n", 5),
        "-".join(groups[:3]) + "-" + "".join(groups[3:]),  # no group dashes
    ]
    for variant in variants:
        assert import_private_key(variant) == pair.private_key, variant


def _flip_char(text: str, pos: int) -> str:
    ch = text[pos]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    replacement = alphabet[(alphabet.index(ch) + 1) % len(alphabet)]
    return text[:pos] + replacement + text[pos + 1 :]


def test_every_single_character_typo_is_caught() -> None:
    text = VECTORS["recovery"][0]["text"]
    body_start = len("CANDOR-RECOVERY-1-")
    for pos in range(body_start, len(text)):
        if text[pos] == "-":
            continue
        with pytest.raises(KeyFormatError):
            import_private_key(_flip_char(text, pos))


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "CANDOR-RECOVERY-1-",
        "CANDOR-RECOVERY-2-AAAA",
        "RECOVERY-1-AAAA-AAAA",
        "not a key",
        "x" * 5000,
    ],
)
def test_malformed(bad: str) -> None:
    with pytest.raises(KeyFormatError):
        import_private_key(bad)


def test_bad_prefix_length_and_characters() -> None:
    text = VECTORS["recovery"][0]["text"]
    with pytest.raises(KeyFormatError):
        import_private_key(text.replace("CANDOR-RECOVERY-1-", "CANDOR-RECOVERY-2-"))
    with pytest.raises(KeyFormatError):
        import_private_key(text[:-2])  # drop the last group: wrong length
    with pytest.raises(KeyFormatError):
        import_private_key(text + "AAAA")
    with pytest.raises(KeyFormatError):
        import_private_key(text[:-1] + "1")  # '1' is not in the base32 alphabet
    with pytest.raises(KeyFormatError):
        import_private_key(text[:-1] + "!")
