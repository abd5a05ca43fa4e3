"""The library's exceptions: one base class, one subclass per distinct failure.

Everything the library raises on purpose derives from :class:`Error`, so a script
can catch the whole family with one ``except smarkets.Error``.
"""

from __future__ import annotations


class Error(Exception):
    """Base class of every exception raised by :mod:`smarkets`."""


class ProtocolError(Error):
    """The peer sent bytes or payloads that break the wire protocol.

    The connection that produced it is unusable afterwards: nothing after the
    offending data is guessed at.
    """
