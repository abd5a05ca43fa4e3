"""Payloads as the session layer sees them: decoding, the session mechanics, small builders.

Shared by both ends, with no I/O. :func:`decode_payloads` turns frames into checked
``seto.Payload`` objects (a payload a schema-following peer cannot send is a
:class:`~smarkets.errors.ProtocolError`); :func:`is_session_level` tells the session's own
payloads from the application's; :func:`serialize_once` and :func:`seq_suffix` let one
payload be serialised once and numbered per session.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError
from google.protobuf.unknown_fields import UnknownFieldSet

from smarkets.errors import LocalProtocolError, RemoteProtocolError
from smarkets.proto import eto_pb2, seto_pb2
from smarkets.protocol.framing import uleb128

__all__ = [
    "IS_REPLAY_SUFFIX",
    "MAX_SEQ",
    "classify_bad_frames",
    "decode_payload",
    "decode_payloads",
    "is_session_level",
    "logout_reason_name",
    "seq_suffix",
    "serialize_once",
    "session_payload",
]

Payload = seto_pb2.Payload

_PAYLOAD_ETO = seto_pb2.PAYLOAD_ETO
_PAYLOAD_LOGIN = seto_pb2.PAYLOAD_LOGIN
_ETO_NONE = eto_pb2.PAYLOAD_NONE

# The eto kinds that make up the session mechanics. Any other eto kind (a downtime alert,
# a throttle notice) is news for the application: delivered in order, replayed in full.
_SESSION_MECHANICS = frozenset(
    {
        eto_pb2.PAYLOAD_NONE,
        eto_pb2.PAYLOAD_PING,
        eto_pb2.PAYLOAD_PONG,
        eto_pb2.PAYLOAD_GAPFILL,
        eto_pb2.PAYLOAD_HEARTBEAT,
        eto_pb2.PAYLOAD_REPLAY,
        eto_pb2.PAYLOAD_LOGIN,
        eto_pb2.PAYLOAD_LOGIN_RESPONSE,
        eto_pb2.PAYLOAD_LOGOUT,
    }
)

#: Appended to a stored payload's bytes, this sets eto_payload.is_replay = true:
#: seto field 2 (eto_payload), length 2, holding eto field 3 (is_replay) = 1.
#: Protobuf merges repeated occurrences of an embedded message, so the copy
#: parses as the original with is_replay set, without a parse/serialise round.
IS_REPLAY_SUFFIX = bytes([0x12, 0x02, 0x18, 0x01])

#: The largest seq a uint64 can carry.
MAX_SEQ = (1 << 64) - 1


def seq_suffix(seq: int) -> bytes:
    """Bytes that, appended to a serialised seto payload, set its eto seq to ``seq``.

    seto field 2 (eto_payload) holding only eto field 1 (seq): merged into the payload's
    own eto_payload like :data:`IS_REPLAY_SUFFIX`, the later seq winning.
    """
    field = b"\x08" + uleb128(seq)  # eto field 1, varint
    return b"\x12" + bytes((len(field),)) + field  # seto field 2, length-delimited


def decode_payload(frame: bytes) -> Payload:
    """Parse one payload, refusing anything a peer that follows the schema can't send."""
    try:
        payload = Payload.FromString(frame)
    except DecodeError as exc:
        raise RemoteProtocolError(
            f"undecodable payload ({len(frame)} bytes): {exc or 'invalid protobuf'}"
        ) from exc
    # upb does not enforce `required` (nor reject enum numbers it does not know,
    # which leave a required enum unset): check it here.
    if not payload.IsInitialized():
        missing = ", ".join(payload.FindInitializationErrors())
        raise RemoteProtocolError(f"payload lacks required fields: {missing}")
    return payload


def _batch_type() -> Any:
    """A message of one field, ``repeated seto.Payload payloads = 1``: never on the wire,
    only the container :func:`decode_payloads` parses a whole read's frames into."""
    file = descriptor_pb2.FileDescriptorProto(
        name="smarkets/protocol/payload_batch.proto",
        package="smarkets.protocol",
        dependency=[seto_pb2.DESCRIPTOR.name],
    )
    message = file.message_type.add(name="PayloadBatch")
    message.field.add(
        name="payloads",
        number=1,
        label=descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED,
        type=descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE,
        type_name="." + Payload.DESCRIPTOR.full_name,
    )
    pool = descriptor_pool.Default()
    pool.Add(file)
    return message_factory.GetMessageClass(
        pool.FindMessageTypeByName("smarkets.protocol.PayloadBatch")
    )


_PayloadBatch = _batch_type()
# Field 1, length-delimited, then the length: what puts a frame into a PayloadBatch.
_TAGGED = [bytes((0x0A, size)) for size in range(0x80)]


def _as_batch_entry(frame: bytes) -> bytes:
    size = len(frame)
    return (_TAGGED[size] if size < 0x80 else b"\x0a" + uleb128(size)) + frame


def decode_payloads(frames: list[bytes]) -> list[Payload]:
    """:func:`decode_payload` every frame, the common case (all of them valid) made cheap.

    The frames are parsed in one go, as the entries of a ``PayloadBatch`` (``repeated
    seto.Payload``): one parse and one check for the whole read instead of one each,
    about a third less time a payload (bench part 2).  The check: ``SerializeToString``
    raises unless every required field is set, exactly when ``IsInitialized()`` is
    false, and upb checks that while encoding, for about half the cost of the
    reflective walk that ``IsInitialized()`` does.  When anything fails, the frames are
    decoded again one by one by :func:`decode_payload`, which raises what it always
    raised, for the first bad frame.

    The payloads share the batch's memory: one kept by the application keeps its read's
    batch alive (a read is at most what one ``recv`` returned).
    """
    try:
        batch = _PayloadBatch.FromString(b"".join([_as_batch_entry(f) for f in frames]))
        batch.SerializeToString()  # the required-field check; the bytes are dropped
    except Exception:
        return [decode_payload(frame) for frame in frames]
    payloads: list[Payload] = list(batch.payloads)
    return payloads


def is_session_level(payload: Payload) -> bool:
    """True for payloads of the session mechanics (never acted on twice, replayed as GAPFILL).

    Logins, login responses, logouts, heartbeats, pings, pongs, replay requests and gapfills.
    Other eto kinds (a downtime alert, a throttle notice) are news for the application,
    sequenced like any application payload.
    """
    ptype = payload.type
    return ptype == _PAYLOAD_LOGIN or (
        ptype == _PAYLOAD_ETO and payload.eto_payload.type in _SESSION_MECHANICS
    )


def logout_reason_name(reason: int) -> str:
    """``LOGOUT_HEARTBEAT_TIMEOUT`` for 2, and so on (the number if unknown)."""
    try:
        return eto_pb2.LogoutReason.Name(reason)
    except ValueError:
        return str(reason)


def serialize_once(payload: Payload) -> bytes:
    """``payload``'s bytes for :meth:`~smarkets.protocol.core.SessionCore.send_serialized`,
    to send to many sessions.

    Its eto seq is set to 0 and its eto type to NONE when unset (the payload is changed in
    place); each session's own seq is appended when it is sent.  Raises
    :class:`~smarkets.errors.LocalProtocolError` when a required field is missing.
    """
    eto = payload.eto_payload
    eto.seq = 0
    if not eto.HasField("type"):
        eto.type = _ETO_NONE
    try:
        return payload.SerializeToString()
    except Exception as exc:  # EncodeError: a required field is missing
        raise LocalProtocolError(f"cannot encode payload: {exc}") from exc


def session_payload(eto_type: int) -> Payload:
    """A new session-only seto payload of the given eto type (seq unset)."""
    payload = Payload(type=_PAYLOAD_ETO)
    payload.eto_payload.type = eto_type
    return payload


def _unserved(message: Any, path: str = "") -> tuple[list[str], list[str]]:
    """The required fields ``message`` lacks: (truly missing, holding an unknown enum number).

    A closed proto2 enum keeps a number it does not know among the unknown fields, so a
    required enum field given such a number reads as missing although it was sent.
    """
    missing: list[str] = []
    unknown_enum: list[str] = []
    unknown: set[int] | None = None
    for fd in message.DESCRIPTOR.fields:
        name = f"{path}{fd.name}"
        if fd.is_repeated:
            if fd.message_type is not None:
                for item in getattr(message, fd.name):
                    m, u = _unserved(item, f"{name}[].")
                    missing += m
                    unknown_enum += u
            continue
        if fd.message_type is not None:
            if message.HasField(fd.name):
                m, u = _unserved(getattr(message, fd.name), f"{name}.")
                missing += m
                unknown_enum += u
            elif fd.is_required:
                missing.append(name)
            continue
        if fd.is_required and not message.HasField(fd.name):
            if fd.enum_type is not None:
                if unknown is None:
                    unknown = {f.field_number for f in UnknownFieldSet(message)}
                if fd.number in unknown:
                    unknown_enum.append(name)
                    continue
            missing.append(name)
    return missing, unknown_enum


def classify_bad_frames(frames: list[bytes]) -> tuple[int, str]:
    """Why a batch of frames could not be taken: (LOGOUT reason, description).

    The LOGOUT a receiver sends over a batch :func:`decode_payloads` refused (PROTOCOL.md
    section 3.1: never a silent disconnect): ``LOGOUT_UNSUPPORTED_PAYLOAD`` for a payload
    that parses but holds an enum number (its payload type included) the schema does not
    know in a required field; ``LOGOUT_INVALID_PAYLOAD`` for one that does not parse or
    lacks a required field (and for a batch whose payloads are all sound: the fault was
    elsewhere). Both are extension reasons, sent as ``LOGOUT_NONE`` to a session without
    extensions.
    """
    for frame in frames:
        try:
            payload = Payload.FromString(frame)
        except DecodeError:
            return eto_pb2.LOGOUT_INVALID_PAYLOAD, f"undecodable payload ({len(frame)} bytes)"
        if payload.IsInitialized():
            continue
        missing, unknown_enum = _unserved(payload)
        if missing:
            return (
                eto_pb2.LOGOUT_INVALID_PAYLOAD,
                f"payload lacks required fields: {', '.join(missing)}",
            )
        if unknown_enum == ["type"]:
            numbers = [f.data for f in UnknownFieldSet(payload) if f.field_number == 1]
            kind = numbers[0] if numbers else "?"
            return eto_pb2.LOGOUT_UNSUPPORTED_PAYLOAD, f"payload of unknown kind {kind}"
        return (
            eto_pb2.LOGOUT_UNSUPPORTED_PAYLOAD,
            f"unknown enum value in {', '.join(unknown_enum)}",
        )
    return eto_pb2.LOGOUT_INVALID_PAYLOAD, "invalid payload"
