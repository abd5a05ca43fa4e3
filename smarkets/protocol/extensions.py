"""The project's extensions to the published wire, and what a session without them sees.

The wire is the published eto v0.3.0 and seto v0.6.4 (PROTOCOL.md section 3). What this
project adds (PROTOCOL.md section 3.2) is numbered from :data:`FIRST_EXTENSION_CODE`: payload
kinds, fields of published messages and enum values. A client asks for extensions in its
login (``seto.Login.extensions``, the version it speaks) and the server grants a version in
``eto.LoginResponse.extensions``; a session granted none is sent only what the published
schema parses.

This module is the one place that decides what such a session is sent instead
(:func:`published_view`): an extension kind is not sent at all; extension fields are left
out; an extension enum value in a published field is replaced by its published stand-in
(:data:`PUBLISHED_STAND_INS`), or left out of a repeated field when it has none.
"""

from __future__ import annotations

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from smarkets.proto import eto_pb2, seto_pb2

__all__ = [
    "EXTENSIONS_VERSION",
    "FIRST_EXTENSION_CODE",
    "PUBLISHED_STAND_INS",
    "has_extensions",
    "is_extension_kind",
    "logout_reason_for",
    "published_view",
]

#: The version of the extensions this library speaks (and the sandbox grants).
EXTENSIONS_VERSION = 1

#: Extension kinds, fields and enum values are numbered from here.
FIRST_EXTENSION_CODE = 100

#: For each extension enum value that a published field may carry: the published value a
#: session without extensions is told instead, keyed by the enum's full name.
PUBLISHED_STAND_INS: dict[str, dict[int, int]] = {
    "smarkets.seto.OrderCancelledReason": {
        # A settlement cancels the resting orders; the published schema says "halted".
        seto_pb2.ORDER_CANCELLED_MARKET_SETTLED: seto_pb2.ORDER_CANCELLED_MARKET_HALTED,
    },
    "smarkets.eto.LogoutReason": {
        eto_pb2.LOGOUT_INVALID_PAYLOAD: eto_pb2.LOGOUT_NONE,
        eto_pb2.LOGOUT_UNSUPPORTED_PAYLOAD: eto_pb2.LOGOUT_NONE,
    },
}

_ENUM = FieldDescriptor.TYPE_ENUM
_MESSAGE = FieldDescriptor.TYPE_MESSAGE


def is_extension_kind(payload: seto_pb2.Payload) -> bool:
    """Whether ``payload`` is of a kind the published schema does not have."""
    return payload.type >= FIRST_EXTENSION_CODE or payload.eto_payload.type >= FIRST_EXTENSION_CODE


def logout_reason_for(reason: int, extensions: int) -> int:
    """The LOGOUT reason to send a session granted ``extensions`` (0: none)."""
    if extensions or reason < FIRST_EXTENSION_CODE:
        return reason
    return PUBLISHED_STAND_INS["smarkets.eto.LogoutReason"].get(reason, eto_pb2.LOGOUT_NONE)


def published_view(payload: seto_pb2.Payload) -> seto_pb2.Payload | None:
    """What a session without extensions is sent in place of ``payload``.

    ``None`` when nothing is (an extension kind); ``payload`` itself when it carries no
    extension at all; otherwise a copy with every extension field left out and every
    extension enum value replaced by its stand-in. ``payload`` is never changed.
    """
    if is_extension_kind(payload):
        return None
    if not has_extensions(payload):
        return payload
    view = seto_pb2.Payload()
    view.CopyFrom(payload)
    _strip(view)
    return view


def has_extensions(message: Message) -> bool:
    """Whether ``message`` carries an extension field or enum value anywhere inside."""
    for field, value in message.ListFields():
        if field.number >= FIRST_EXTENSION_CODE:
            return True
        kind = field.type
        if kind == _MESSAGE:
            if field.is_repeated:
                if any(has_extensions(item) for item in value):
                    return True
            elif has_extensions(value):
                return True
        elif kind == _ENUM:
            values = value if field.is_repeated else (value,)
            if any(v >= FIRST_EXTENSION_CODE for v in values):
                return True
    return False


def _strip(message: Message) -> None:
    for field, value in message.ListFields():
        if field.number >= FIRST_EXTENSION_CODE:
            message.ClearField(field.name)
            continue
        kind = field.type
        if kind == _MESSAGE:
            for item in value if field.is_repeated else (value,):
                _strip(item)
        elif kind == _ENUM:
            stand_ins = PUBLISHED_STAND_INS.get(field.enum_type.full_name, {})
            if field.is_repeated:
                kept = [stand_ins.get(v, v) for v in value]
                kept = [v for v in kept if v < FIRST_EXTENSION_CODE]
                del value[:]
                value.extend(kept)
            elif value >= FIRST_EXTENSION_CODE:
                if value in stand_ins:
                    setattr(message, field.name, stand_ins[value])
                else:
                    message.ClearField(field.name)
