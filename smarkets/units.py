"""Prices, quantities and money as a person reads them.

Prices are percent odds in basis points and amounts are integers in 1/10,000 of the
account currency (PROTOCOL.md section 3.2); these turn them into text for the CLI,
the watch screen and the examples, exactly (never through a float).
"""

from __future__ import annotations

from decimal import Decimal

__all__ = ["amount_text", "money_text", "price_text"]

_CURRENCY_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}


def price_text(price: int) -> str:
    """A price in basis points as percent odds: ``2500`` → ``'25.00%'``."""
    return f"{price // 100}.{price % 100:02d}%"


def amount_text(amount: int, places: int | None = None) -> str:
    """A quantity or sum in 1/10,000 units, with thousands separators: ``12345678`` →
    ``'1,234.5678'``, ``400000`` → ``'40.00'``.

    ``places`` is 2 or 4; by default 2, or 4 when the amount splits a penny, so
    that what is shown is always exact.
    """
    if places is None:
        places = 4 if amount % 100 else 2
    value = Decimal(amount).scaleb(-4)
    return f"{value:,.{places}f}"


def money_text(amount: int, currency: str = "GBP", places: int | None = None) -> str:
    """Money in 1/10,000 units as currency: ``(12345600, 'GBP')`` → ``'£1,234.56'``.

    Currencies without a known symbol are written out: ``'1,234.56 CHF'``.
    """
    text = amount_text(abs(amount), places)
    sign = "-" if amount < 0 else ""
    symbol = _CURRENCY_SYMBOLS.get(currency)
    if symbol is None:
        return f"{sign}{text} {currency}"
    return f"{sign}{symbol}{text}"
