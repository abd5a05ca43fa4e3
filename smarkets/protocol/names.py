"""Payload names: what each payload is called by the handlers it is dispatched to.

A session payload (seto type ETO or LOGIN) is named after its eto type (``eto.pong``), an
exchange payload after the ``seto.Payload`` field that carries its message
(``seto.order_accepted``). The client dispatches by these names and the journal records
them; both ends could log with them.
"""

from __future__ import annotations

from typing import Any

from google.protobuf.descriptor import FieldDescriptor

from smarkets.errors import UnknownHandlerError
from smarkets.proto import eto_pb2, seto_pb2

__all__ = [
    "ETO_HANDLER_NAMES",
    "HANDLER_NAMES",
    "SETO_HANDLER_NAMES",
    "check_name",
    "payload_name",
]

_PREFIX = "payload_"


def _eto_name(value: int) -> str:
    try:
        name = eto_pb2.PayloadType.Name(value)
    except ValueError:
        return f"eto.unknown_{value}"
    return "eto." + name.lower().removeprefix(_PREFIX)


#: Handler names of session payloads, from the eto ``PayloadType`` enum.
ETO_HANDLER_NAMES = frozenset(_eto_name(value) for value in eto_pb2.PayloadType.values())

_SETO_FIELDS = frozenset(
    field.name
    for field in seto_pb2.Payload.DESCRIPTOR.fields
    if field.type == FieldDescriptor.TYPE_MESSAGE and field.name != "eto_payload"
)
#: Handler names of exchange payloads, from the fields of ``seto.Payload``.
SETO_HANDLER_NAMES = frozenset(f"seto.{name}" for name in _SETO_FIELDS)
#: Every valid handler name.
HANDLER_NAMES = ETO_HANDLER_NAMES | SETO_HANDLER_NAMES

# seto PayloadType value -> the Payload field that carries its message.
_FIELD_BY_TYPE = {
    value: name.lower().removeprefix(_PREFIX)
    for name, value in seto_pb2.PayloadType.items()
    if name.lower().removeprefix(_PREFIX) in _SETO_FIELDS
}
_SESSION_TYPES = frozenset({seto_pb2.PAYLOAD_ETO, seto_pb2.PAYLOAD_LOGIN})
# Looked up once per payload rather than formatting a name each time: the handler name and
# the field carrying the message, by seto type, for exchange payloads; the handler name by
# eto type, for session payloads.
_SETO_ROUTES: dict[int, tuple[str, str]] = {
    value: (f"seto.{field}", field)
    for value, field in _FIELD_BY_TYPE.items()
    if value not in _SESSION_TYPES
}
_ETO_NAMES: dict[int, str] = {value: _eto_name(value) for value in eto_pb2.PayloadType.values()}


def payload_name(payload: seto_pb2.Payload) -> tuple[str, Any]:
    """The handler name of ``payload`` and the message its handlers get.

    Session payloads (seto type ETO or LOGIN) are named after their eto type
    (``eto.pong``) and give the ``eto.Payload``; the others after the field
    that carries their message (``seto.order_accepted``) and give that message.
    """
    ptype = payload.type
    route = _SETO_ROUTES.get(ptype)
    if route is not None:
        name, field = route
        return name, getattr(payload, field)
    if ptype in _SESSION_TYPES:
        eto = payload.eto_payload
        etype = eto.type
        return _ETO_NAMES.get(etype) or _eto_name(etype), eto
    # A type this library does not know: name it after whichever message is set.
    for descriptor, value in payload.ListFields():
        if descriptor.name in _SETO_FIELDS:
            return f"seto.{descriptor.name}", value
    return f"seto.unknown_{ptype}", payload


def check_name(name: str) -> None:
    """Raise :class:`~smarkets.errors.UnknownHandlerError` unless ``name`` is a payload name."""
    if name not in HANDLER_NAMES:
        raise UnknownHandlerError(
            f"unknown handler name {name!r}; valid names are: {', '.join(sorted(HANDLER_NAMES))}"
        )
