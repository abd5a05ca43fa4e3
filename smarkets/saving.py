"""What a session keeps in its state store, and when: :class:`SessionSaver`.

A :class:`~smarkets.session.Session` given a state store (a
:class:`~smarkets.state_store.FileStateStore`) survives the death of its process: its id
and both next seqs are saved whenever they change, and what it sent is kept on record for
the server's replay requests. This module decides what is saved, beside the session: the
saved ``inseq`` never runs ahead of what the application has finished with (see
``Session.auto_commit``), a session that ended for good is cleared, and a saved session is
picked up again when the next process starts.
"""

from __future__ import annotations

import logging
from collections import deque

from smarkets.errors import Error
from smarkets.protocol import Event, Received, ReplayStore, SessionState, is_session_level
from smarkets.settings import SessionSettings
from smarkets.state_store import StateStore

__all__ = ["SessionSaver"]

log = logging.getLogger("smarkets.session")


class SessionSaver:
    """The session's side of a state store (``store`` ``None``: nothing is saved).

    ``auto_commit`` (see ``Session.auto_commit``) tells whether a payload counts as
    processed once received; when it does not, the application reports each one with
    :meth:`processed`, and the saved ``inseq`` stays at the oldest not reported.
    """

    def __init__(self, store: StateStore | None, settings: SessionSettings) -> None:
        self.store = store
        self.settings = settings
        self.auto_commit = True
        # auto_commit False: seqs of application payloads handed to the caller and not
        # yet reported processed, oldest first.
        self._unprocessed: deque[int] = deque()
        self._saved: tuple[str, int, int] | None = None

    def initial_state(self, session_id: str | None, inseq: int, outseq: int) -> SessionState:
        """The session to start with: the one given, else the one saved, else a new one."""
        from_store = False
        if session_id is None and self.store is not None and (inseq, outseq) == (1, 1):
            saved = self.store.load()
            if saved is not None:
                from_store = True
                session_id, inseq, outseq = saved.session_id, saved.inseq, saved.outseq
                log.info(
                    "resuming saved session %s (inseq %d, outseq %d)", session_id, inseq, outseq
                )
        if session_id is None and (inseq, outseq) != (1, 1):
            raise ValueError(
                f"a new session starts at inseq 1 and outseq 1 (got {inseq}, {outseq}); "
                "give the session_id to resume a session"
            )
        sent = self.replay_store(outseq, resume=from_store)
        if from_store and len(sent):
            if sent.next_seq < outseq:
                log.warning(
                    "the sent payloads on record stop at seq %d, below outseq %d: not kept",
                    sent.next_seq - 1,
                    outseq,
                )
                sent.clear(first_seq=outseq)
            else:
                # Numbered, on record, maybe written, but not in the numbers yet.
                outseq = sent.next_seq
        return SessionState(session_id or None, inseq, outseq, sent=sent)

    def new_state(self) -> SessionState:
        """A new session's state; what was saved of the old one is cleared."""
        self.clear()
        self._unprocessed.clear()
        return SessionState(sent=self.replay_store(1, resume=False))

    def replay_store(self, first_seq: int, *, resume: bool) -> ReplayStore:
        """A replay store: the state store's, when it keeps what was sent."""
        factory = getattr(self.store, "replay_store", None)
        limit = self.settings.replay_limit  # read now: a script may have changed it
        if factory is None:
            return ReplayStore(limit=limit, first_seq=first_seq)
        return factory(limit, first_seq, resume=resume)  # type: ignore[no-any-return]

    def received(self, events: list[Event]) -> None:
        """Note the application payloads among ``events`` as not processed yet (only when
        that matters: ``auto_commit`` off and a store to save to)."""
        if self.auto_commit or self.store is None:
            return
        unprocessed = self._unprocessed
        for event in events:
            if type(event) is Received and not is_session_level(event.payload):
                seq = event.seq
                unprocessed.append(event.payload.eto_payload.seq if seq is None else seq)

    def processed(self, seq: int) -> bool:
        """The application is done with payload ``seq``; True when everything handed over
        is now done (the numbers should then be saved). Unknown seqs are ignored."""
        unprocessed = self._unprocessed
        if not unprocessed or not unprocessed[0] <= seq <= unprocessed[-1]:
            return False
        if unprocessed[0] == seq:
            unprocessed.popleft()
        else:
            try:
                unprocessed.remove(seq)
            except ValueError:
                return False
        return not unprocessed

    @property
    def waiting(self) -> bool:
        """Whether payloads handed over are waiting to be reported processed."""
        return bool(self._unprocessed)

    def forget_unprocessed(self) -> None:
        """Nothing handed over is waiting any more (the next resume starts elsewhere)."""
        self._unprocessed.clear()

    def save(self, state: SessionState) -> None:
        """Save ``state``'s numbers if they changed (``inseq`` no further than the
        application got). A failure is logged: the session goes on."""
        store = self.store
        if store is None or not state.session_id:
            return
        inseq = state.inseq
        if self._unprocessed:
            # Not past what the application has not finished with (see auto_commit).
            inseq = min(inseq, self._unprocessed[0])
        numbers = (state.session_id, inseq, state.outseq)
        if numbers == self._saved:
            return
        try:
            store.save(*numbers)
        except Error:
            log.exception("could not save the session state")
            return
        self._saved = numbers

    def clear(self) -> None:
        """The session ended for good: nothing of it is kept."""
        self._saved = None
        if self.store is None:
            return
        try:
            self.store.clear()
        except Error:
            log.exception("could not clear the saved session state")
