"""The 2013 SDK's exception names: ``smarkets.exceptions``.

Each is the project's own class under its 2013 name (an alias, so ``except`` clauses
written either way catch the same thing); the project's names, in :mod:`smarkets.errors`,
are preferred:

=========================  ==================================================================
2013 name                  the project's class
=========================  ==================================================================
``Error``                  :exc:`~smarkets.errors.Error`, the base of everything raised
``ConnectionError``        :exc:`~smarkets.errors.SocketError`: the TCP (or TLS) connection
                           failed (its subclasses: connecting, TLS, closed, timed out)
``SocketDisconnected``     :exc:`~smarkets.errors.ConnectionClosed`: the server closed the
                           connection, also what a reading thread gets after a
                           ``logout(receive=False)``
``DecodeError``            :exc:`~smarkets.errors.ProtocolError`: a bad frame header (the
                           project has one class for every breach of the wire protocol)
``ParseError``             :exc:`~smarkets.errors.ProtocolError`: a payload that cannot be
                           decoded or lacks a required field
``InvalidCallbackError``   :exc:`~smarkets.errors.UnknownHandlerError`: a handler name that
                           is not a payload kind
``InvalidUrlError``        :exc:`~smarkets.errors.InvalidUrlError`
``DownloadError``          :exc:`~smarkets.errors.DownloadError`
=========================  ==================================================================

``ConnectionError`` shadows Python's builtin of that name inside this module only:
``from smarkets.exceptions import *`` leaves it out, and ``smarkets.ConnectionError``
exists but is not in ``smarkets.__all__``. Write ``smarkets.exceptions.ConnectionError``
or ``smarkets.ConnectionError``.
"""

from smarkets.errors import (
    ConnectionClosed,
    DownloadError,
    Error,
    InvalidUrlError,
    ProtocolError,
    SocketError,
    UnknownHandlerError,
)

#: 2013 name of :exc:`~smarkets.errors.SocketError`: the connection failed.
ConnectionError = SocketError  # the 2013 name, on purpose: shadows the builtin here only
#: 2013 name of :exc:`~smarkets.errors.ConnectionClosed`: the server closed the connection.
SocketDisconnected = ConnectionClosed
#: 2013 name of :exc:`~smarkets.errors.ProtocolError` (a bad frame header).
DecodeError = ProtocolError
#: 2013 name of :exc:`~smarkets.errors.ProtocolError` (a payload that cannot be parsed).
ParseError = ProtocolError
#: 2013 name of :exc:`~smarkets.errors.UnknownHandlerError`.
InvalidCallbackError = UnknownHandlerError

__all__ = [
    "DecodeError",
    "DownloadError",
    "Error",
    "InvalidCallbackError",
    "InvalidUrlError",
    "ParseError",
    "SocketDisconnected",
]
