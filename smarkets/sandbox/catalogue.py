"""The catalogue under its former path.

Kept only while the test modules being rewritten in parallel still import it; it is to be
removed once nothing does. The catalogue is :mod:`smarkets.sandbox.exchange.catalogue`, the
markets file :mod:`smarkets.sandbox.exchange.markets_file`.
"""

from smarkets.sandbox.exchange.catalogue import Catalogue, CatalogueError, MarketSpec
from smarkets.sandbox.exchange.markets_file import default_catalogue, default_markets

__all__ = ["Catalogue", "CatalogueError", "MarketSpec", "default_catalogue", "default_markets"]
