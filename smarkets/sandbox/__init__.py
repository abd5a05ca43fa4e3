"""The sandbox exchange: a small exchange speaking the streaming protocol, to run the client
(and anything else that speaks the published protocol) against.

* :mod:`smarkets.sandbox.exchange`: the exchange, sans-I/O (books, matching, accounts and
  money, the catalogue, the input files, the bots);
* :mod:`smarkets.sandbox.server`: the network side, plain objects (sessions, routing, the
  login gate, the throttle, requests, downtime, administration) under a thin asyncio shell;
* :mod:`smarkets.sandbox.cli` (``python -m smarkets.sandbox``), :mod:`smarkets.sandbox.console`
  (the admin console), :mod:`smarkets.sandbox.certs` (its TLS certificates) and
  :mod:`smarkets.sandbox.process` (:class:`~smarkets.sandbox.process.SandboxProcess`, the
  sandbox in a child process, for tests and demos).

It imports nothing of the client: only itself, :mod:`smarkets.protocol` and the generated
schemas.
"""
