"""Tests of id conversions: numbers, ``Uuid128`` messages and tagged hex text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smarkets.errors import Error, InvalidIdError
from smarkets.proto import seto_pb2
from smarkets.protocol import ids as ids_module
from smarkets.protocol.ids import (
    TAGS,
    int_to_uuid128,
    str_to_int,
    str_to_uuid128,
    uuid128_to_int,
    uuid128_to_str,
)

ids = st.integers(min_value=0, max_value=2**128 - 1)
kinds = st.sampled_from(sorted(TAGS))


def test_tags() -> None:
    assert TAGS == {
        "market": "c024",
        "contract": "cccc",
        "order": "fff0",
        "account": "acc1",
        "event": "1100",
        "session": "9999",
        "user": "0f00",
    }


# --- examples -------------------------------------------------------------------------


def test_protocol_examples() -> None:
    market = str_to_uuid128("fc024")
    assert (market.low, market.high) == (0xF, 0)
    contract = str_to_uuid128("1cccc")
    assert (contract.low, contract.high) == (1, 0)
    assert uuid128_to_str(seto_pb2.Uuid128(low=0xF), "market") == "fc024"
    assert uuid128_to_str(0xF, "market") == "fc024"
    assert uuid128_to_str(1, "contract") == "1cccc"


def test_zero() -> None:
    assert uuid128_to_str(0, "market") == "0c024"
    assert uuid128_to_int(str_to_uuid128("0c024", kind="market")) == 0
    assert uuid128_to_str(seto_pb2.Uuid128(), "order") == "0fff0"


@pytest.mark.parametrize(("kind", "tag"), sorted(TAGS.items()))
def test_each_kind(kind: str, tag: str) -> None:
    assert uuid128_to_str(0x1234, kind) == "1234" + tag
    assert str_to_int("1234" + tag, kind=kind) == 0x1234


def test_strip_tag_false_keeps_whole_number() -> None:
    u = str_to_uuid128("fc024", strip_tag=False)
    assert (u.low, u.high) == (0xFC024, 0)
    assert str_to_int("f", strip_tag=False) == 0xF  # no tag needed then
    assert str_to_int("fc024", strip_tag=False, kind="market") == 0xFC024


def test_uppercase_and_leading_zeros_are_accepted() -> None:
    assert str_to_int("FC024", kind="market") == 0xF
    assert str_to_int("000fc024", kind="market") == 0xF
    assert uuid128_to_str(str_to_uuid128("000ABCDEFCCCC"), "contract") == "abcdefcccc"


def test_any_tag_is_stripped_without_kind() -> None:
    assert str_to_int("42b1a4") == 0x42


def test_high_word_used_above_2_64() -> None:
    u = int_to_uuid128(2**64)
    assert (u.low, u.high) == (0, 1)
    u = int_to_uuid128(2**128 - 1)
    assert (u.low, u.high) == (2**64 - 1, 2**64 - 1)
    u = int_to_uuid128(2**64 - 1)
    assert (u.low, u.high) == (2**64 - 1, 0)
    assert not u.HasField("high")  # kept off the wire when 0
    assert uuid128_to_int(seto_pb2.Uuid128(low=5, high=3)) == 5 | 3 << 64
    text = uuid128_to_str(2**64 + 0xF, "order")
    assert text == "1000000000000000ffff0"
    u = str_to_uuid128(text, kind="order")
    assert (u.low, u.high) == (0xF, 1)


def test_largest_id_text() -> None:
    text = "f" * 32 + "acc1"
    assert str_to_int(text, kind="account") == 2**128 - 1
    assert uuid128_to_str(2**128 - 1, "account") == text


def test_uuid128_survives_the_wire() -> None:
    u = int_to_uuid128(2**100 + 7)
    decoded = seto_pb2.Uuid128.FromString(u.SerializeToString())
    assert uuid128_to_int(decoded) == 2**100 + 7


# --- round trips ----------------------------------------------------------------------


@given(n=ids)
def test_int_uuid128_round_trip(n: int) -> None:
    u = int_to_uuid128(n)
    assert 0 <= u.low < 2**64
    assert 0 <= u.high < 2**64
    assert uuid128_to_int(u) == n


@given(n=ids, kind=kinds)
def test_text_round_trip(n: int, kind: str) -> None:
    text = uuid128_to_str(n, kind)
    assert text == f"{n:x}{TAGS[kind]}"
    assert text == text.lower()
    assert uuid128_to_int(str_to_uuid128(text)) == n
    assert uuid128_to_int(str_to_uuid128(text, kind=kind)) == n
    assert str_to_int(text, kind=kind) == n
    assert uuid128_to_str(str_to_uuid128(text, kind=kind), kind) == text
    assert uuid128_to_str(int_to_uuid128(n), kind) == text


@given(n=ids)
def test_untagged_round_trip(n: int) -> None:
    assert str_to_int(f"{n:x}", strip_tag=False) == n


# --- errors ---------------------------------------------------------------------------


def test_invalid_id_error_is_a_value_error() -> None:
    assert issubclass(InvalidIdError, Error)
    assert issubclass(InvalidIdError, ValueError)


@pytest.mark.parametrize("text", ["xyz", "", "fc02g", " fc024", "fc024\n", "0xfc024", "f_c024"])
def test_not_hex(text: str) -> None:
    with pytest.raises(InvalidIdError, match="is not a tagged hex id") as info:
        str_to_uuid128(text)
    assert repr(text) in str(info.value)


def test_not_hex_message() -> None:
    with pytest.raises(InvalidIdError, match=r"^'xyz' is not a tagged hex id$"):
        str_to_int("xyz")
    with pytest.raises(InvalidIdError, match=r"^'xyz' is not a hex id$"):
        str_to_int("xyz", strip_tag=False)


def test_non_ascii_digits_refused() -> None:
    with pytest.raises(InvalidIdError):
        str_to_int("\u0661\u0662c024")  # Arabic-Indic digits, which int() would accept


def test_wrong_kind() -> None:
    with pytest.raises(
        InvalidIdError, match=r"^id 'fcccc' has tag cccc \(contract\), expected c024 \(market\)$"
    ):
        str_to_uuid128("fcccc", kind="market")


def test_unknown_tag_with_kind() -> None:
    with pytest.raises(InvalidIdError, match=r"has tag 1234 \(unknown kind\), expected fff0"):
        str_to_uuid128("f1234", kind="order")


def test_kind_checked_even_without_stripping() -> None:
    with pytest.raises(InvalidIdError, match="expected c024"):
        str_to_int("fcccc", strip_tag=False, kind="market")


@pytest.mark.parametrize("call", ["str", "format"])
def test_unknown_kind(call: str) -> None:
    with pytest.raises(InvalidIdError) as info:
        if call == "str":
            str_to_uuid128("fc024", kind="contract_group")
        else:
            uuid128_to_str(1, "contract_group")
    message = str(info.value)
    assert "'contract_group'" in message
    for kind in TAGS:
        assert kind in message


@pytest.mark.parametrize("text", ["c024", "1", "0000"])
def test_too_short(text: str) -> None:
    with pytest.raises(InvalidIdError, match="too short.*at least 5 hex digits") as info:
        str_to_uuid128(text)
    assert repr(text) in str(info.value)


def test_over_128_bits_text() -> None:
    with pytest.raises(InvalidIdError, match=r"^id '1" + "0" * 32 + r"c024' is larger than 128"):
        str_to_uuid128("1" + "0" * 32 + "c024")
    with pytest.raises(InvalidIdError, match="larger than 128 bits"):
        str_to_int("1" + "0" * 32, strip_tag=False)


def test_long_input_shortened_in_message() -> None:
    text = "f" * 10_000
    with pytest.raises(InvalidIdError) as info:
        str_to_int(text)
    assert len(str(info.value)) < 200
    assert "10000 characters" in str(info.value)


@pytest.mark.parametrize("n", [-1, 2**128, 2**200])
def test_out_of_range_numbers(n: int) -> None:
    with pytest.raises(InvalidIdError, match=f"id {n} is out of range"):
        int_to_uuid128(n)
    with pytest.raises(InvalidIdError, match="out of range"):
        uuid128_to_str(n, "market")


def test_wrong_types() -> None:
    with pytest.raises(TypeError):
        int_to_uuid128("15")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        int_to_uuid128(True)
    with pytest.raises(TypeError):
        str_to_uuid128(15)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        uuid128_to_int(15)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        uuid128_to_str("fc024", "market")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "given",
    [
        seto_pb2.Uuid128(low=0xF),
        "fc024",
        "FC024",
        0xF,
    ],
)
def test_an_id_given_any_way_reads_as_one_number(given) -> None:
    assert ids_module.to_int(given, "market") == 0xF
    made = ids_module.to_uuid128(given, "market")
    assert (made.low, made.HasField("high")) == (0xF, False)
    if isinstance(given, seto_pb2.Uuid128):
        assert made is not given  # a copy, never shared


def test_an_id_given_wrong_is_refused() -> None:
    with pytest.raises(InvalidIdError, match="expected c024"):
        ids_module.to_int("1cccc", "market")
    with pytest.raises(InvalidIdError, match="out of range"):
        ids_module.to_int(1 << 128, "market")
    with pytest.raises(TypeError, match="a market id must be"):
        ids_module.to_int(True, "market")
    with pytest.raises(TypeError):
        ids_module.to_uuid128(1.5, "contract")  # type: ignore[arg-type]
    big = ids_module.to_uuid128((1 << 100) + 5, "order")
    assert (big.low, big.high) == (5, 1 << 36)
