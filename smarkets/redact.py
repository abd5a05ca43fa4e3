"""Text of protobuf messages for logs and reprs, with secrets masked.

Passwords and login tokens must never reach a log line, at any level, nor a
``repr``.  Every message the library writes to a log goes through
:func:`redacted_text`, which masks the fields named in :data:`SECRET_FIELDS`
wherever they occur in the message tree.

The generated message classes that can carry a secret (``seto.Login`` and
``seto.Payload``, which holds a ``Login``) have their ``repr()`` and ``str()``
masked too, so that ``log.debug("%s", payload)``, an f-string or a traceback
printing a payload cannot leak one either: :func:`mask_message_reprs` patches
them, and :mod:`smarkets.proto` calls it when it is imported, before any code
can reach the classes.  ``text_format.MessageToString`` and the serialised
bytes are left alone: they are what the wire needs.
"""

from __future__ import annotations

from types import ModuleType

from google.protobuf import text_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

#: Field names whose values are secrets, in any message.
SECRET_FIELDS = frozenset({"password", "cookie"})

MASK = "***"


def _mask_in_place(message: Message) -> None:
    for fd, value in message.ListFields():
        if fd.name in SECRET_FIELDS:
            if fd.type == FieldDescriptor.TYPE_BYTES:
                setattr(message, fd.name, MASK.encode())
            elif fd.type == FieldDescriptor.TYPE_STRING:
                setattr(message, fd.name, MASK)
        elif fd.type == FieldDescriptor.TYPE_MESSAGE:
            if fd.is_repeated:
                for item in value:
                    _mask_in_place(item)
            else:
                _mask_in_place(value)


def _has_secret(message: Message) -> bool:
    for fd, value in message.ListFields():
        if fd.name in SECRET_FIELDS:
            return True
        if fd.type == FieldDescriptor.TYPE_MESSAGE:
            items = value if fd.is_repeated else (value,)
            if any(_has_secret(item) for item in items):
                return True
    return False


def redacted(message: Message) -> Message:
    """``message`` itself when it holds no secret, else a copy with them masked."""
    if not _has_secret(message):
        return message
    copy = type(message)()
    copy.CopyFrom(message)
    _mask_in_place(copy)
    return copy


def redacted_text(message: Message) -> str:
    """One line of protobuf text format for ``message``, secrets masked."""
    text = text_format.MessageToString(redacted(message), as_one_line=True)
    return f"{type(message).__name__} {{ {text} }}"


def _masked_str(self: Message) -> str:
    """``str()`` of a message class that can carry a secret: its text format, masked."""
    return text_format.MessageToString(redacted(self))


def _reaches_secret(descriptor: Descriptor, seen: set[str] | None = None) -> bool:
    """Whether a message of this type can hold a secret field, at any depth."""
    seen = set() if seen is None else seen
    if descriptor.full_name in seen:
        return False
    seen.add(descriptor.full_name)
    for fd in descriptor.fields:
        if fd.name in SECRET_FIELDS:
            return True
        if fd.message_type is not None and _reaches_secret(fd.message_type, seen):
            return True
    return False


def _message_classes(owner: object, descriptors: list[Descriptor]) -> list[tuple[type, Descriptor]]:
    found = []
    for descriptor in descriptors:
        cls = getattr(owner, descriptor.name, None)
        if isinstance(cls, type) and issubclass(cls, Message):
            found.append((cls, descriptor))
            found.extend(_message_classes(cls, list(descriptor.nested_types)))
    return found


def mask_message_reprs(*modules: ModuleType) -> list[type[Message]]:
    """Mask ``repr()``/``str()`` of every message class of ``modules`` that can carry a secret.

    ``modules`` are generated ``_pb2`` modules.  A class is patched when its
    message type has a field named in :data:`SECRET_FIELDS`, or a message field
    that leads to one; its ``repr()`` and ``str()`` become the text format of
    :func:`redacted` (the message itself is untouched).  Returns the classes
    patched, in the order found; calling it again changes nothing.
    """
    patched: list[type[Message]] = []
    for module in modules:
        file_descriptor = module.DESCRIPTOR
        top = list(file_descriptor.message_types_by_name.values())
        for cls, descriptor in _message_classes(module, top):
            if _reaches_secret(descriptor):
                cls.__repr__ = _masked_str  # type: ignore[method-assign,assignment]
                cls.__str__ = _masked_str  # type: ignore[method-assign,assignment]
                patched.append(cls)
    return patched


def is_masked(cls: type[Message]) -> bool:
    """Whether :func:`mask_message_reprs` has masked ``cls``'s ``repr()`` and ``str()``."""
    return cls.__repr__ is _masked_str and cls.__str__ is _masked_str
