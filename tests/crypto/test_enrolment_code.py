"""Enrolment codes (crypto.enrolment_code): twelve digits bound to an account and its public
key, read aloud and typed by another person."""

from __future__ import annotations

import re

import pytest

from crypto.damm import damm_valid
from crypto.enrolment_code import CODE_DIGITS, codes_match, enrolment_code, normalise_code
from crypto.keys import generate_keypair


def test_a_code_is_twelve_digits_in_groups_with_a_damm_check_digit() -> None:
    code = enrolment_code(7, generate_keypair().public_key)
    assert re.fullmatch(r"\d{4} \d{4} \d{4}", code)
    assert damm_valid(code.replace(" ", ""))
    assert enrolment_code(7, bytes(32)) == enrolment_code(7, bytes(32))  # derived, not drawn


def test_another_key_or_another_account_gives_another_code() -> None:
    keys = [generate_keypair().public_key for _ in range(200)]
    codes = {enrolment_code(1, key) for key in keys}
    assert len(codes) == len(keys)
    key = keys[0]
    assert enrolment_code(1, key) != enrolment_code(2, key)  # a key copied to another account


@pytest.mark.parametrize("typed", ["{a}{b}{c}", "{a}-{b}-{c}", " {a} {b} {c} ", "{a}\t{b}{c}"])
def test_a_code_is_recognised_however_it_is_spaced(typed: str) -> None:
    code = enrolment_code(3, bytes(range(32)))
    a, b, c = code.split()
    assert codes_match(code, typed.format(a=a, b=b, c=c))


def test_full_width_digits_from_a_chinese_input_method_are_digits() -> None:
    code = enrolment_code(3, bytes(range(32)))
    full_width = code.translate({ord(d): ord(d) + 0xFEE0 for d in "0123456789"})
    assert codes_match(code, full_width)


def test_typing_errors_and_other_input_are_refused() -> None:
    code = enrolment_code(3, bytes(range(32)))
    digits = code.replace(" ", "")
    one_wrong = digits[:4] + str((int(digits[4]) + 1) % 10) + digits[5:]
    swapped = digits[:5] + digits[6] + digits[5] + digits[7:]
    assert normalise_code(one_wrong) is None  # the check digit catches it
    if digits[5] != digits[6]:
        assert normalise_code(swapped) is None
    for other in ("", digits[:-1], digits + "0", "abcd efgh ijkl", "١٢٣٤٥٦٧٨٩٠١٢"):
        assert not codes_match(code, other)
    assert len(digits) == CODE_DIGITS


def test_a_code_needs_a_32_byte_key_and_an_account_id() -> None:
    with pytest.raises(ValueError):
        enrolment_code(-1, bytes(32))
    with pytest.raises((TypeError, ValueError)):
        enrolment_code(1, bytes(31))
