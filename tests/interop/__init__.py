"""Interoperability: a foreign client, built from PROTOCOL.md and the wire tables alone."""
