"""The handlers a client calls: by payload name, and for every payload.

A handler registered for a name (``seto.order_accepted``, ``eto.pong``: see
:mod:`smarkets.protocol.names`) is called with that payload's message; a global handler
with the name and the whole ``seto.Payload``. They run in the thread that reads, in the
order they were added, the named ones first.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from smarkets.errors import UnknownHandlerError
from smarkets.proto import seto_pb2
from smarkets.protocol.names import check_name

__all__ = ["GlobalHandler", "Handler", "Handlers"]

#: ``fn(message)``: a handler for one kind of payload.
Handler = Callable[[Any], None]
#: ``fn(name, payload)``: a handler for every payload (the whole ``seto.Payload``).
GlobalHandler = Callable[[str, seto_pb2.Payload], None]


class Handlers:
    """The registry: :meth:`add` / :meth:`remove` by name, :meth:`add_global` /
    :meth:`remove_global`, and :meth:`call` to run them for one payload.

    Safe to change from any thread. The handlers of a name are kept as a tuple, replaced
    (under a lock) when one is added or removed: :meth:`call` iterates them as they are,
    with no copy, and a handler that adds or removes handlers changes what the next
    payload sees, not the one being dispatched.
    """

    def __init__(self) -> None:
        self._named: dict[str, tuple[Handler, ...]] = {}
        self._global: tuple[GlobalHandler, ...] = ()
        self._lock = threading.Lock()

    def add(self, name: str, fn: Handler) -> None:
        """Call ``fn(message)`` for every payload named ``name``."""
        check_name(name)
        if not callable(fn):
            raise TypeError(f"handler for {name} must be callable, not {fn!r}")
        with self._lock:
            self._named[name] = (*self._named.get(name, ()), fn)

    def remove(self, name: str, fn: Handler) -> None:
        """Stop calling ``fn`` for ``name``."""
        check_name(name)
        with self._lock:
            handlers = list(self._named.get(name, ()))
            try:
                handlers.remove(fn)
            except ValueError:
                raise UnknownHandlerError(f"{fn!r} is not a handler of {name}") from None
            if handlers:
                self._named[name] = tuple(handlers)
            else:
                del self._named[name]

    def add_global(self, fn: GlobalHandler) -> None:
        """Call ``fn(name, payload)`` for every payload."""
        if not callable(fn):
            raise TypeError(f"global handler must be callable, not {fn!r}")
        with self._lock:
            self._global = (*self._global, fn)

    def remove_global(self, fn: GlobalHandler) -> None:
        """Stop calling global handler ``fn``."""
        with self._lock:
            handlers = list(self._global)
            try:
                handlers.remove(fn)
            except ValueError:
                raise UnknownHandlerError(f"{fn!r} is not a global handler") from None
            self._global = tuple(handlers)

    def call(self, name: str, message: Any, payload: seto_pb2.Payload) -> None:
        """Run the handlers of ``name`` with ``message``, then the global ones."""
        for fn in self._named.get(name, ()):
            fn(message)
        for global_fn in self._global:
            global_fn(name, payload)
