"""The 2013 SDK's module path for the session layer: ``smarkets.sessions``.

Scripts written for that SDK import :class:`SessionSettings`, :class:`Session` and
:class:`SessionSocket` from here; they are the project's own classes, defined in
:mod:`smarkets.settings`, :mod:`smarkets.session` and :mod:`smarkets.session_socket`
(import them from ``smarkets``, preferably). ``Session(settings, session_id, inseq,
outseq)`` resumes a session exactly as the 2013 ``Session(settings, session, inseq,
outseq)`` did.
"""

from smarkets.session import Session
from smarkets.session_socket import SessionSocket
from smarkets.settings import SessionSettings

__all__ = ["Session", "SessionSettings", "SessionSocket"]
