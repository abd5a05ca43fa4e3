"""The 2013 SDK's module path for the client: ``smarkets.clients``.

:class:`Smarkets` is the project's own client, defined in :mod:`smarkets.client` (import
it from ``smarkets``, preferably). It has the 2013 signatures as well as its own:
``Smarkets(session, auto_flush=False)``, ``login(receive=True)``, ``logout(receive=True)``,
``order_cancel``, ``send``, ``request_events``, ``fetch_http_found``, ``copy_payload`` and
``str_to_uuid128(uuid_str, uuid128=None, strip_tag=True)``; see :doc:`/compat`.
"""

from smarkets.client import Smarkets

__all__ = ["Smarkets"]
