"""Part 1 -- framing decode: frames/s for a stream of small payloads, by read size.

What is measured: :class:`smarkets.protocol.framing.FrameDecoder` turning a byte stream back into
payloads. The stream holds about 130,000 frames of real exchange payloads averaging ~30
bytes (order_accepted, order_executed, order_cancelled, one-level contract_quotes, with
consecutive eto seqs), fed in reads of 4 KiB, 64 KiB (what the client asks of the kernel)
and 1 MiB (what a client that fell behind may get in one read).

Baseline: :class:`NaiveFrameDecoder` below, the decoder a competent person writes first:
keep a ``bytes`` buffer, append each read to it, parse the ULEB128 header, slice the
payload out and drop the frame with ``buf = buf[n:]``. It follows the same rules (maximum
payload size, 10-byte header limit, padding to 4 bytes) and returns the same payloads
(checked below), so the comparison is like for like. Its flaw is the one being measured:
every frame copies the rest of the buffer, so its cost per frame grows with the read size.

Targets: at 64 KiB, at least 3x the baseline; and linear cost: per frame, 1 MiB reads no
slower than 64 KiB reads (a 10 % allowance for noise; the ratio is reported).
"""

from __future__ import annotations

from smarkets.errors import ProtocolError
from smarkets.protocol.framing import (
    DEFAULT_MAX_PAYLOAD_SIZE,
    MAX_HEADER_SIZE,
    MIN_FRAME_SIZE,
    FrameDecoder,
)

# isort: split
from common import (
    Row,
    chunked,
    frame_stream,
    interleaved_trials,
    logged_in_pair,
    median,
    now_ns,
    numbered,
    rate,
    small_mix,
)

PART = "1 framing"
FRAMES = 131_072
CHUNK_SIZES = {"4 KiB": 4 << 10, "64 KiB": 64 << 10, "1 MiB": 1 << 20}
#: How much of the stream the naive decoder gets per trial at each read size: its cost
#: per frame depends on the read size, not on how many reads, and at 1 MiB a single read
#: already costs it about a second (each of ~35,000 frames copies up to 1 MiB).
NAIVE_BYTES = {"4 KiB": 1 << 30, "64 KiB": 2 << 20, "1 MiB": 1 << 20}
TRIALS = 9
NAMES = [f"FrameDecoder, {label} reads" for label in CHUNK_SIZES] + [
    "linearity: 1 MiB reads vs 64 KiB"
]
NAIVE_TRIALS = {"4 KiB": 7, "64 KiB": 5, "1 MiB": 1}
LINEAR_ALLOWANCE = 0.9


class NaiveFrameDecoder:
    """The obvious decoder: one ``bytes`` buffer, ``buf = buf[n:]`` after each frame."""

    def __init__(self, max_payload_size: int = DEFAULT_MAX_PAYLOAD_SIZE) -> None:
        self._buf = b""
        self._max = max_payload_size

    def feed(self, data: bytes) -> list[bytes]:
        buf = self._buf + data
        out: list[bytes] = []
        while buf:
            length = 0
            shift = 0
            header_len = 0
            complete = False
            for byte in buf[:MAX_HEADER_SIZE]:
                length |= (byte & 0x7F) << shift
                header_len += 1
                if byte < 0x80:
                    complete = True
                    break
                shift += 7
            if not complete:
                if header_len >= MAX_HEADER_SIZE:
                    raise ProtocolError("frame length header is too long")
                break
            if length > self._max:
                raise ProtocolError(f"frame length {length} exceeds {self._max}")
            frame_len = max(header_len + length, MIN_FRAME_SIZE)
            if len(buf) < frame_len:
                break
            out.append(buf[header_len : header_len + length])
            buf = buf[frame_len:]
        self._buf = buf
        return out


def _decode_all(decoder_class: type, chunks: list[bytes]) -> float:
    decoder = decoder_class()
    count = 0
    start = now_ns()
    for chunk in chunks:
        count += len(decoder.feed(chunk))
    end = now_ns()
    return rate(count, start, end)


def run(quick: bool = False) -> list[Row]:
    _, server = logged_in_pair()
    frames = FRAMES // 4 if quick else FRAMES
    payloads = numbered(server, (small_mix(i) for i in range(frames)))
    stream = frame_stream(payloads)
    mean_size = sum(map(len, payloads)) / len(payloads)

    # Both decoders must return exactly the payloads sent, whatever the read size.
    head = stream[: 256 << 10]
    expected = FrameDecoder().feed(head)
    if expected != payloads[: len(expected)] or len(expected) < 1000:
        raise RuntimeError("FrameDecoder decodes the stream wrongly")
    for size in (1, 3, 4096, 65536):
        for cls in (FrameDecoder, NaiveFrameDecoder):
            decoder = cls()
            got = [p for chunk in chunked(head, size) for p in decoder.feed(chunk)]
            if got != expected:
                raise RuntimeError(f"{cls.__name__} decodes the stream wrongly (reads of {size})")

    rows: list[Row] = []
    ours: dict[str, float] = {}
    for label, size in CHUNK_SIZES.items():
        chunks = chunked(stream, size)
        naive_chunks = chunked(stream[: NAIVE_BYTES[label]], size)
        naive_trials = 1 if quick else NAIVE_TRIALS[label]
        results = interleaved_trials(
            {"ours": lambda c=chunks: _decode_all(FrameDecoder, c)}, TRIALS - naive_trials
        )
        both = interleaved_trials(
            {
                "ours": lambda c=chunks: _decode_all(FrameDecoder, c),
                "naive": lambda c=naive_chunks: _decode_all(NaiveFrameDecoder, c),
            },
            naive_trials,
        )
        ours_runs = results["ours"] + both["ours"]
        ours[label] = median(ours_runs)
        target = ">= 3x" if label == "64 KiB" else "-"
        naive = median(both["naive"])
        rows.append(
            Row(
                PART,
                f"FrameDecoder, {label} reads",
                ours[label],
                "frames/s",
                "naive buf=buf[n:] decoder",
                naive,
                target=target,
                met=(ours[label] >= 3 * naive) if label == "64 KiB" else None,
                note=f"{len(payloads)} frames, mean payload {mean_size:.0f} B",
                extra={"trials": ours_runs, "baseline_trials": both["naive"]},
            )
        )
    linear = ours["1 MiB"] / ours["64 KiB"]
    rows.append(
        Row(
            PART,
            "linearity: 1 MiB reads vs 64 KiB",
            ours["1 MiB"],
            "frames/s",
            "FrameDecoder, 64 KiB reads",
            ours["64 KiB"],
            target=f">= {LINEAR_ALLOWANCE:g}x",
            met=linear >= LINEAR_ALLOWANCE,
            note="per-frame cost must not grow with the read size",
        )
    )
    return rows
