import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.damm import damm_check_digit, damm_valid
from crypto.errors import MalformedReceipt, MistypedReceipt, ReceiptError
from crypto.kdf import KdfProfile
from crypto.receipt import (
    RECEIPT_DIGITS,
    derive_receipt_secrets,
    format_receipt,
    generate_receipt,
    normalise_receipt,
)

VECTORS = json.loads((Path(__file__).parent / "vectors" / "receipt.json").read_text("utf-8"))
SAMPLE_CODES = [v["receipt"] for v in VECTORS["derive_receipt_secrets"]] + [
    "0" * 27 + damm_check_digit("0" * 27),
    "9" * 27 + damm_check_digit("9" * 27),
]
SALT = bytes(range(16))
PEPPER = bytes(range(32, 64))


# ---- Damm check digit


@pytest.mark.parametrize("v", VECTORS["damm"], ids=lambda v: v["payload"])
def test_damm_known_answers(v: dict) -> None:
    assert damm_check_digit(v["payload"]) == v["check"]
    assert damm_valid(v["payload"] + v["check"])


@pytest.mark.parametrize("code", SAMPLE_CODES)
def test_damm_detects_every_single_digit_substitution(code: str) -> None:
    for pos in range(len(code)):
        for digit in "0123456789":
            if digit == code[pos]:
                continue
            typo = code[:pos] + digit + code[pos + 1 :]
            assert not damm_valid(typo), (pos, digit)
            with pytest.raises(MistypedReceipt):
                normalise_receipt(typo)


@pytest.mark.parametrize("code", SAMPLE_CODES)
def test_damm_detects_every_adjacent_transposition(code: str) -> None:
    for pos in range(len(code) - 1):
        a, b = code[pos], code[pos + 1]
        if a == b:
            continue
        swapped = code[:pos] + b + a + code[pos + 2 :]
        assert not damm_valid(swapped), pos
        with pytest.raises(MistypedReceipt):
            normalise_receipt(swapped)


def test_damm_transpositions_exhaustive_over_all_digit_pairs() -> None:
    # Every ordered pair of differing digits, at every prefix state the quasigroup can be in.
    for prefix in ["", "1", "22", "377", "4", "58", "6", "7", "81", "9"]:
        for a in "0123456789":
            for b in "0123456789":
                if a == b:
                    continue
                code = prefix + a + b
                code += damm_check_digit(code)
                assert not damm_valid(prefix + b + a + code[-1])


# ---- generation, formatting, normalisation


def test_generate_shape_and_uniqueness() -> None:
    codes = {generate_receipt() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert re.fullmatch(r"[0-9]{28}", code)
        assert len(code) == RECEIPT_DIGITS
        assert damm_valid(code)


def test_generated_digits_look_uniform() -> None:
    # Leading zeros must be possible (zfill), and all digits appear in every position.
    codes = [generate_receipt() for _ in range(400)]
    for pos in range(RECEIPT_DIGITS - 1):
        assert len({c[pos] for c in codes}) == 10


def test_format() -> None:
    code = "1234567890123456789012345678"
    assert format_receipt(code) == "1234 5678 9012 3456 7890 1234 5678"


@pytest.mark.parametrize("code", SAMPLE_CODES)
def test_normalise_accepts_human_variants(code: str) -> None:
    grouped = format_receipt(code)
    fullwidth = "".join(chr(ord(ch) + 0xFEE0) for ch in code)
    variants = [
        code,
        grouped,
        grouped.replace(" ", "-"),
        "  " + grouped.replace(" ", "\t") + "\n",
        grouped.replace(" ", "\u3000"),  # ideographic space
        grouped.replace(" ", "\u2013"),  # en dash
        grouped.replace(" ", "\u2212"),  # minus sign
        grouped.replace(" ", "\u00a0"),  # no-break space
        grouped.replace(" ", "\uff0d"),  # full-width hyphen-minus
        code[:4] + "\u200b" + code[4:],  # zero-width space from a paste
        grouped.replace(" ", "\u3001"),  # ideographic comma (Chinese input method)
        grouped.replace(" ", "\uff0c"),  # full-width comma
        grouped.replace(" ", "\u3002"),  # ideographic full stop
        grouped.replace(" ", "."),
        grouped.replace(" ", ", "),
        grouped.replace(" ", "/"),
        fullwidth,
        format_receipt(fullwidth),
    ]
    for text in variants:
        assert normalise_receipt(text) == code, repr(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "1234",
        SAMPLE_CODES[0][:-1],
        SAMPLE_CODES[0] + "0",
        SAMPLE_CODES[0][:10] + "a" + SAMPLE_CODES[0][11:],
        "abcd efgh ijkl mnop qrst uvwx yzab",
        SAMPLE_CODES[0][:27] + "\u0664",  # Arabic-Indic digit four
        SAMPLE_CODES[0][:27] + ".",
        "1" * 1000,
        # Between "9" and the lower-case letters in code-point order: caught by the ASCII
        # digit check, not by the check digit (which would fail with another error).
        SAMPLE_CODES[0][:10] + "A" + SAMPLE_CODES[0][11:],
        SAMPLE_CODES[0][:10] + ":" + SAMPLE_CODES[0][11:],
    ],
    # Plain ASCII ids: an escaped non-ASCII id cannot be selected again by node id (mutmut).
    ids=["empty", "spaces", "short", "digit-missing", "digit-extra", "letter-inside",
         "letters", "arabic-indic-digit", "dot", "thousand-ones", "capital-inside",
         "colon-inside"],
)
def test_malformed(text: str) -> None:
    with pytest.raises(MalformedReceipt):
        normalise_receipt(text)


def test_nfkc_compatibility_digits_fold_to_ascii() -> None:
    # NFKC also folds e.g. superscript two to "2"; harmless, and the check digit still applies.
    code = SAMPLE_CODES[0]
    pos = code.index("2")
    assert normalise_receipt(code[:pos] + "\u00b2" + code[pos + 1 :]) == code


def test_error_messages_do_not_leak_the_code() -> None:
    code = SAMPLE_CODES[0]
    typo = code[:-1] + str((int(code[-1]) + 1) % 10)
    with pytest.raises(ReceiptError) as info:
        normalise_receipt(typo)
    assert typo not in str(info.value)
    assert code[:8] not in str(info.value)


@settings(max_examples=200)
@given(st.integers(min_value=0, max_value=10**27 - 1))
def test_normalise_format_round_trip(n: int) -> None:
    payload = str(n).zfill(27)
    code = payload + damm_check_digit(payload)
    assert normalise_receipt(format_receipt(code)) == code


@settings(max_examples=50)
@given(st.just(None))
def test_normalise_format_generate(_: None) -> None:
    code = generate_receipt()
    assert normalise_receipt(format_receipt(code)) == code


# ---- secret derivation


@pytest.mark.parametrize("v", VECTORS["derive_receipt_secrets"])
def test_derive_known_answers(v: dict) -> None:
    secrets = derive_receipt_secrets(
        format_receipt(v["receipt"]),
        instance_salt=bytes.fromhex(v["instance_salt"]),
        pepper=bytes.fromhex(v["pepper"]),
        profile=KdfProfile(**v["profile"]),
    )
    assert secrets.lookup_id.hex() == v["lookup_id"]
    assert secrets.receipt_key.hex() == v["receipt_key"]


def test_derive_shape_and_normalisation(cheap_profile: KdfProfile) -> None:
    code = SAMPLE_CODES[0]
    a = derive_receipt_secrets(code, instance_salt=SALT, pepper=PEPPER, profile=cheap_profile)
    b = derive_receipt_secrets(
        format_receipt(code).replace(" ", "-"),
        instance_salt=SALT,
        pepper=PEPPER,
        profile=cheap_profile,
    )
    assert a == b
    assert len(a.lookup_id) == 32 and len(a.receipt_key) == 32
    assert a.lookup_id != a.receipt_key
    assert a.lookup_id.hex() not in repr(a) and a.receipt_key.hex() not in repr(a)


def test_wrong_receipt_salt_or_pepper_gives_different_secrets(cheap_profile: KdfProfile) -> None:
    code, other = SAMPLE_CODES[0], SAMPLE_CODES[1]
    base = derive_receipt_secrets(code, instance_salt=SALT, pepper=PEPPER, profile=cheap_profile)
    wrong = derive_receipt_secrets(other, instance_salt=SALT, pepper=PEPPER, profile=cheap_profile)
    assert wrong.lookup_id != base.lookup_id and wrong.receipt_key != base.receipt_key
    salted = derive_receipt_secrets(
        code, instance_salt=bytes(16), pepper=PEPPER, profile=cheap_profile
    )
    assert salted.lookup_id != base.lookup_id and salted.receipt_key != base.receipt_key
    peppered = derive_receipt_secrets(
        code, instance_salt=SALT, pepper=bytes(32), profile=cheap_profile
    )
    # The pepper only keys the lookup id; the grant key must not depend on it.
    assert peppered.lookup_id != base.lookup_id
    assert peppered.receipt_key == base.receipt_key


def test_derive_rejects_bad_receipts_before_hashing(cheap_profile: KdfProfile) -> None:
    with pytest.raises(MalformedReceipt):
        derive_receipt_secrets("12", instance_salt=SALT, pepper=PEPPER, profile=cheap_profile)
    typo = SAMPLE_CODES[0][:-1] + str((int(SAMPLE_CODES[0][-1]) + 1) % 10)
    with pytest.raises(MistypedReceipt):
        derive_receipt_secrets(typo, instance_salt=SALT, pepper=PEPPER, profile=cheap_profile)


def test_derive_rejects_bad_pepper(cheap_profile: KdfProfile) -> None:
    for pepper in (b"", bytes(8), bytes(65)):
        with pytest.raises(ValueError):
            derive_receipt_secrets(
                SAMPLE_CODES[0], instance_salt=SALT, pepper=pepper, profile=cheap_profile
            )
