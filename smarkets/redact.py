"""Text of protobuf messages for logs and reprs, with secrets masked.

Passwords and login tokens must never reach a log line, at any level, nor a
``repr``.  Every message the library writes to a log goes through
:func:`redacted_text`, which masks the fields named in :data:`SECRET_FIELDS`
wherever they occur in the message tree.
"""

from __future__ import annotations

from google.protobuf import text_format
from google.protobuf.descriptor import FieldDescriptor
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
