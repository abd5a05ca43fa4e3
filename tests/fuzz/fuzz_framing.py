"""Differential fuzz target for :class:`smarkets.protocol.framing.FrameDecoder`.

Builds byte streams (valid frames, mutated frames, huge or over-long headers, random
garbage), feeds them to the decoder split at random points, and checks the outcome against
a slow reference decoder that reads the whole stream at once:

- the decoder raises nothing but ProtocolError, and fails exactly when the reference does;
- without a failure it returns exactly the reference's payloads, as ``bytes``, and holds
  exactly the reference's unfinished tail;
- with one it has returned a prefix of them and keeps refusing input afterwards.

Run it by hand for as long as you like (plain Python, no extra dependencies)::

    .venv/bin/python tests/fuzz/fuzz_framing.py --seconds 600
    .venv/bin/python tests/fuzz/fuzz_framing.py --seconds 60 --seed 1234   # reproduce a run

It prints a summary, and on a mismatch the seed and case number needed to replay it, then
exits with status 1. It is not collected by pytest (the file name does not start with
``test_``).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from smarkets.errors import ProtocolError
from smarkets.protocol.framing import FrameDecoder, encode_frame


def reference_decode(stream: bytes, max_size: int) -> tuple[list[bytes], bool, int]:
    """Decode a whole stream naively: (payloads, failed, bytes left unfinished)."""
    payloads: list[bytes] = []
    pos = 0
    while pos < len(stream):
        value = 0
        index = pos
        while True:
            if index - pos == 10:
                return payloads, True, 0  # header longer than 10 bytes
            if index == len(stream):
                return payloads, False, len(stream) - pos  # header unfinished
            byte = stream[index]
            value |= (byte & 0x7F) << (7 * (index - pos))
            index += 1
            if byte < 0x80:
                break
        if value > max_size:
            return payloads, True, 0
        frame_end = max(index + value, pos + 4)
        if frame_end > len(stream):
            return payloads, False, len(stream) - pos
        payloads.append(stream[index : index + value])
        pos = frame_end
    return payloads, False, 0


def uleb128(value: int, extra: int = 0) -> bytes:
    """ULEB128 of ``value``, optionally padded with ``extra`` redundant bytes."""
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value or extra:
            out.append(byte | 0x80)
            if not value:
                extra -= 1
                if extra == 0:
                    out.append(0)
                    return bytes(out)
        else:
            out.append(byte)
            return bytes(out)


def random_payload(rng: random.Random) -> bytes:
    """A payload whose size straddles the 1-, 2- and 3-byte header boundaries."""
    size = rng.choice(
        [
            rng.randint(0, 4),
            rng.randint(0, 40),
            rng.randint(120, 140),
            rng.randint(0, 1000),
            rng.randint(16370, 16400),
            rng.randint(0, 70000),
        ]
    )
    return rng.randbytes(size) if rng.random() < 0.3 else bytes([rng.randrange(256)]) * size


def random_piece(rng: random.Random, max_size: int) -> bytes:
    """One piece of a stream: usually a valid frame, sometimes something hostile."""
    roll = rng.random()
    if roll < 0.75:
        return encode_frame(random_payload(rng))
    if roll < 0.80:
        return uleb128(rng.randint(0, 200), extra=rng.randint(1, 9)) + rng.randbytes(200)
    if roll < 0.85:
        return b"\x80" * rng.randint(9, 12) + rng.randbytes(rng.randint(0, 5))
    if roll < 0.90:
        return uleb128(rng.choice([max_size, max_size + 1, 2**31, 2**62, 2**69]))
    if roll < 0.95:
        return rng.randbytes(rng.randint(1, 64))
    return bytes(rng.randint(1, 8))


def mutate(rng: random.Random, stream: bytes) -> bytes:
    """Flip, drop or insert a few bytes of ``stream``."""
    data = bytearray(stream)
    for _ in range(rng.randint(1, 4)):
        if not data:
            break
        where = rng.randrange(len(data))
        action = rng.randrange(3)
        if action == 0:
            data[where] ^= 1 << rng.randrange(8)
        elif action == 1:
            del data[where : where + rng.randint(1, 8)]
        else:
            data[where:where] = rng.randbytes(rng.randint(1, 8))
    return bytes(data)


def random_chunks(rng: random.Random, stream: bytes) -> list[bytes]:
    """Split ``stream`` into chunks of a randomly chosen size profile."""
    profile = rng.choice([1, 3, 17, 512, 65536, len(stream) + 1, 0])
    chunks: list[bytes] = []
    pos = 0
    while pos < len(stream):
        step = rng.randint(0, 3 * max(profile, 1)) if profile == 0 else rng.randint(1, profile)
        chunks.append(stream[pos : pos + step])
        pos += step
    return chunks


def check_case(rng: random.Random) -> None:
    """Build one stream, decode it both ways and compare; raise AssertionError on mismatch."""
    max_size = rng.choice([0, 3, 127, 128, 1000, 16384, 1 << 20])
    stream = b"".join(random_piece(rng, max_size) for _ in range(rng.randint(0, 30)))
    if rng.random() < 0.3:
        stream = mutate(rng, stream)
    expected, expected_failed, expected_tail = reference_decode(stream, max_size)

    decoder = FrameDecoder(max_size)
    got: list[bytes] = []
    failed = False
    try:
        for chunk in random_chunks(rng, stream):
            got.extend(decoder.feed(chunk))
    except ProtocolError:
        failed = True
    assert all(type(p) is bytes for p in got), "a payload is not bytes"
    assert failed == expected_failed, f"failed={failed}, reference failed={expected_failed}"
    if failed:
        assert expected[: len(got)] == got, "payloads before the failure differ"
        assert decoder.failed, "decoder does not report its failure"
        try:
            decoder.feed(b"\x00\x00\x00\x00")
        except ProtocolError:
            pass
        else:
            raise AssertionError("a failed decoder accepted more input")
    else:
        assert got == expected, "payloads differ from the reference"
        assert decoder.buffered == expected_tail, "unfinished tail differs"


def main(argv: list[str] | None = None) -> int:
    """Run random cases until the time is up; return 1 on the first mismatch."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to run")
    parser.add_argument("--seed", type=int, default=None, help="seed (random by default)")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    deadline = time.monotonic() + args.seconds
    cases = 0
    while time.monotonic() < deadline:
        rng = random.Random(f"{seed}:{cases}")
        try:
            check_case(rng)
        except Exception as exc:  # any exception at all is a finding
            print(f"MISMATCH seed={seed} case={cases}: {type(exc).__name__}: {exc}")
            return 1
        cases += 1
    print(f"ok: {cases} cases in {args.seconds:g}s, seed={seed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
