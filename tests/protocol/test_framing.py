"""Tests of frame encoding and incremental decoding (PROTOCOL.md §2)."""

from __future__ import annotations

import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smarkets.errors import ProtocolError
from smarkets.protocol.framing import DEFAULT_MAX_PAYLOAD_SIZE, FrameDecoder, encode_frame

# (payload, frame) pairs from the protocol's table of test vectors.
VECTORS = [
    (b"", bytes.fromhex("00 00 00 00")),
    (bytes.fromhex("08 01"), bytes.fromhex("02 08 01 00")),
    (bytes.fromhex("0a 0b 0c"), bytes.fromhex("03 0a 0b 0c")),
    (b"\xab" * 200, bytes.fromhex("c8 01") + b"\xab" * 200),
    (bytes(range(256)) + bytes(44), bytes.fromhex("ac 02") + bytes(range(256)) + bytes(44)),
]


def uleb128(value: int) -> bytes:
    """Reference ULEB128 encoder, independent of the module under test."""
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def feed_all(decoder: FrameDecoder, chunks: list[bytes]) -> list[bytes]:
    """Feed every chunk in turn and return all payloads, in order."""
    out: list[bytes] = []
    for chunk in chunks:
        out.extend(decoder.feed(chunk))
    return out


def split_at(data: bytes, cuts: list[int]) -> list[bytes]:
    """Split ``data`` at the given offsets (any order, duplicates allowed)."""
    points = sorted({min(max(c, 0), len(data)) for c in cuts})
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


# --- encoding -------------------------------------------------------------------------


@pytest.mark.parametrize(("payload", "frame"), VECTORS)
def test_encode_vectors(payload: bytes, frame: bytes) -> None:
    assert encode_frame(payload) == frame


@pytest.mark.parametrize("size", [0, 1, 2, 3, 4, 127, 128, 16383, 16384, 70000])
def test_encode_sizes(size: int) -> None:
    frame = encode_frame(b"x" * size)
    header = uleb128(size)
    assert frame[: len(header)] == header
    assert len(frame) == max(len(header) + size, 4)
    assert frame[len(header) : len(header) + size] == b"x" * size
    assert frame[len(header) + size :] == bytes(len(frame) - len(header) - size)


def test_encode_accepts_bytes_like() -> None:
    assert encode_frame(bytearray(b"\x08\x01")) == bytes.fromhex("02 08 01 00")
    assert encode_frame(memoryview(b"\x0a\x0b\x0c")) == bytes.fromhex("03 0a 0b 0c")


# --- decoding: vectors and splitting --------------------------------------------------


@pytest.mark.parametrize(("payload", "frame"), VECTORS)
def test_decode_vectors(payload: bytes, frame: bytes) -> None:
    decoder = FrameDecoder()
    assert decoder.feed(frame) == [payload]
    assert decoder.buffered == 0


@pytest.mark.parametrize(("payload", "frame"), VECTORS)
def test_decode_vectors_byte_by_byte(payload: bytes, frame: bytes) -> None:
    decoder = FrameDecoder()
    out = feed_all(decoder, [frame[i : i + 1] for i in range(len(frame))])
    assert out == [payload]
    assert decoder.buffered == 0


def test_decode_all_vectors_in_one_chunk() -> None:
    stream = b"".join(frame for _, frame in VECTORS)
    assert FrameDecoder().feed(stream) == [payload for payload, _ in VECTORS]


def test_partial_frame_is_kept() -> None:
    decoder = FrameDecoder()
    assert decoder.feed(bytes.fromhex("03 0a")) == []
    assert decoder.buffered == 2
    assert decoder.feed(bytes.fromhex("0b")) == []
    assert decoder.feed(bytes.fromhex("0c 02 08")) == [b"\x0a\x0b\x0c"]
    assert decoder.feed(bytes.fromhex("01")) == []  # padding byte still due
    assert decoder.feed(bytes.fromhex("00")) == [b"\x08\x01"]
    assert decoder.buffered == 0


def test_padding_is_not_checked() -> None:
    # A documented choice: padding carries nothing, so non-zero padding is skipped.
    assert FrameDecoder().feed(bytes.fromhex("01 aa ff ff 00 ee ee ee")) == [b"\xaa", b""]


def test_overlong_header_is_accepted() -> None:
    # 0x80 0x00 is a non-minimal encoding of 0, accepted like a protobuf varint would be.
    stream = bytes.fromhex("80 00 00 00 83 00 01 02 03")
    assert FrameDecoder().feed(stream) == [b"", b"\x01\x02\x03"]


def test_header_split_inside() -> None:
    decoder = FrameDecoder()
    frame = encode_frame(b"q" * 300)
    assert decoder.feed(frame[:1]) == []
    assert decoder.feed(frame[1:2]) == []
    assert decoder.feed(frame[2:100]) == []
    assert decoder.feed(frame[100:] + encode_frame(b"z")) == [b"q" * 300, b"z"]


def test_empty_feed() -> None:
    decoder = FrameDecoder()
    assert decoder.feed(b"") == []
    decoder.feed(b"\x85")
    assert decoder.feed(b"") == []
    assert decoder.buffered == 1


def test_feed_accepts_bytes_like() -> None:
    decoder = FrameDecoder()
    assert decoder.feed(bytearray(b"\x02\x08\x01\x00")) == [b"\x08\x01"]
    assert decoder.feed(memoryview(b"\x03\x0a\x0b\x0c")) == [b"\x0a\x0b\x0c"]


def test_payloads_are_independent_bytes() -> None:
    decoder = FrameDecoder()
    source = bytearray(encode_frame(b"abcdef") + encode_frame(b"ghijkl")[:3])
    first = decoder.feed(source)
    source[:] = bytes(len(source))  # the caller reuses its read buffer
    rest = decoder.feed(b"ijkl")
    assert first == [b"abcdef"]
    assert rest == [b"ghijkl"]
    for payload in first + rest:
        assert type(payload) is bytes


def test_large_payload_assembled_from_pieces_is_bytes() -> None:
    decoder = FrameDecoder()
    frame = encode_frame(bytes(range(256)) * 100)
    out = feed_all(decoder, split_at(frame, [1, 2, 1000, 5000, 20000]))
    assert out == [bytes(range(256)) * 100]
    assert type(out[0]) is bytes
    more = decoder.feed(encode_frame(b"next"))
    assert more == [b"next"]
    assert out == [bytes(range(256)) * 100]  # not a view into a reused buffer


def test_buffer_released_after_large_frame() -> None:
    decoder = FrameDecoder()
    frame = encode_frame(b"x" * 100_000)
    feed_all(decoder, split_at(frame, [10, 50_000]))
    assert decoder.buffered == 0


# --- decoding: properties -------------------------------------------------------------

payload_lists = st.lists(
    st.one_of(
        st.binary(max_size=8),
        st.binary(min_size=120, max_size=140),
        st.binary(max_size=400),
        st.binary(min_size=16380, max_size=16400),
    ),
    max_size=12,
)


@given(payloads=payload_lists, data=st.data())
@settings(max_examples=300, deadline=None)
def test_round_trip_split_anywhere(payloads: list[bytes], data: st.DataObject) -> None:
    stream = b"".join(encode_frame(p) for p in payloads)
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=20), label="cuts")
    decoder = FrameDecoder()
    assert feed_all(decoder, split_at(stream, cuts)) == payloads
    assert decoder.buffered == 0


@given(payloads=st.lists(st.binary(max_size=40), max_size=50), step=st.integers(1, 7))
@settings(max_examples=200, deadline=None)
def test_round_trip_small_chunks(payloads: list[bytes], step: int) -> None:
    stream = b"".join(encode_frame(p) for p in payloads)
    chunks = [stream[i : i + step] for i in range(0, len(stream), step)]
    assert feed_all(FrameDecoder(), chunks) == payloads


@given(
    garbage=st.binary(max_size=300),
    cuts=st.lists(st.integers(0, 300), max_size=10),
    max_size=st.sampled_from([0, 1, 3, 100, 127, 128, 1000, DEFAULT_MAX_PAYLOAD_SIZE]),
)
@settings(max_examples=500, deadline=None)
def test_random_bytes_only_raise_protocol_error(
    garbage: bytes, cuts: list[int], max_size: int
) -> None:
    decoder = FrameDecoder(max_size)
    try:
        for chunk in split_at(garbage, cuts):
            for payload in decoder.feed(chunk):
                assert type(payload) is bytes
                assert len(payload) <= max_size
    except ProtocolError:
        assert decoder.failed
        with pytest.raises(ProtocolError, match="decoder failed earlier"):
            decoder.feed(b"\x00\x00\x00\x00")
    else:
        assert not decoder.failed


@given(garbage=st.binary(max_size=200), cuts=st.lists(st.integers(0, 200), max_size=10))
@settings(max_examples=300, deadline=None)
def test_chunking_does_not_change_the_result(garbage: bytes, cuts: list[int]) -> None:
    """Whatever the split, the payloads (and whether it fails) match a one-shot decode."""

    def run(chunks: list[bytes]) -> tuple[list[bytes], bool]:
        decoder = FrameDecoder(200)
        out: list[bytes] = []
        try:
            for chunk in chunks:
                out.extend(decoder.feed(chunk))
        except ProtocolError:
            return out, True
        return out, False

    whole, whole_failed = run([garbage])
    split, split_failed = run(split_at(garbage, cuts))
    assert split_failed == whole_failed
    if whole_failed:
        # Payloads completed in the call that fails are not returned, so a split feed may
        # have delivered more of the good prefix than the one-shot feed did.
        assert whole == []
    else:
        assert split == whole


# --- decoding: errors -----------------------------------------------------------------


def test_ten_byte_header_is_accepted_if_in_range() -> None:
    # A 10-byte (over-long) header of a small length is still a valid header.
    header = bytes([0x85] + [0x80] * 8 + [0x00])
    assert len(header) == 10
    assert FrameDecoder().feed(header + b"abcde") == [b"abcde"]


def test_eleven_byte_header_is_refused() -> None:
    with pytest.raises(ProtocolError, match="longer than 10 bytes"):
        FrameDecoder().feed(b"\x80" * 10 + b"\x00" + b"payload")


def test_eleven_byte_header_refused_byte_by_byte() -> None:
    decoder = FrameDecoder()
    for _ in range(9):
        assert decoder.feed(b"\x80") == []
    # The tenth byte still has the high bit set: the header cannot end within 10 bytes.
    with pytest.raises(ProtocolError, match="longer than 10 bytes"):
        decoder.feed(b"\x80")


def test_huge_declared_length_refused_at_once_without_allocation() -> None:
    header = uleb128(2**62)
    decoder = FrameDecoder()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        with pytest.raises(ProtocolError) as info:
            decoder.feed(header)  # the header and nothing else
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert str(info.value) == (
        f"frame length {2**62} exceeds the maximum payload size {DEFAULT_MAX_PAYLOAD_SIZE}"
    )
    assert peak < 64 * 1024
    assert decoder.buffered == 0


def test_huge_declared_length_refused_when_header_completes_across_feeds() -> None:
    header = uleb128(2**31)
    decoder = FrameDecoder()
    for byte in header[:-1]:
        assert decoder.feed(bytes([byte])) == []
    with pytest.raises(ProtocolError, match="frame length 2147483648 exceeds the maximum"):
        decoder.feed(header[-1:])
    assert decoder.buffered == 0


def test_huge_declared_length_after_good_frames() -> None:
    decoder = FrameDecoder()
    with pytest.raises(ProtocolError, match="exceeds the maximum payload size"):
        decoder.feed(encode_frame(b"ok") + uleb128(2**40))


@pytest.mark.parametrize("max_size", [0, 2, 3, 100, 127, 128, 200, 16384])
def test_max_payload_size_boundary(max_size: int) -> None:
    decoder = FrameDecoder(max_payload_size=max_size)
    assert decoder.max_payload_size == max_size
    assert decoder.feed(encode_frame(b"m" * max_size)) == [b"m" * max_size]
    with pytest.raises(ProtocolError, match=f"frame length {max_size + 1} exceeds"):
        decoder.feed(encode_frame(b"m" * (max_size + 1)))


def test_max_payload_size_refused_from_header_alone() -> None:
    decoder = FrameDecoder(max_payload_size=1000)
    with pytest.raises(ProtocolError, match="frame length 1001 exceeds the maximum payload"):
        decoder.feed(uleb128(1001))


def test_default_max_payload_size() -> None:
    decoder = FrameDecoder()
    assert decoder.max_payload_size == 1 << 20
    with pytest.raises(ProtocolError):
        decoder.feed(uleb128((1 << 20) + 1))


def test_failed_decoder_stays_failed() -> None:
    decoder = FrameDecoder(max_payload_size=10)
    with pytest.raises(ProtocolError):
        decoder.feed(encode_frame(b"x" * 11))
    assert decoder.failed
    for data in (b"", encode_frame(b"ok"), b"\x00\x00\x00\x00"):
        with pytest.raises(ProtocolError, match=r"decoder failed earlier: frame length 11"):
            decoder.feed(data)


@pytest.mark.parametrize("bad", [-1, 1.5, "10", True])
def test_bad_max_payload_size(bad: object) -> None:
    with pytest.raises((TypeError, ValueError)):
        FrameDecoder(max_payload_size=bad)  # type: ignore[arg-type]
