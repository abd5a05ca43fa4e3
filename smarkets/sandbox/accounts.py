"""The accounts file and the credential store under their former path.

Kept only while the test modules being rewritten in parallel still import it; it is to be
removed once nothing does. The accounts file is
:mod:`smarkets.sandbox.exchange.accounts_file`; the credential store
:mod:`smarkets.sandbox.server.credentials`.
"""

from smarkets.sandbox.exchange.accounts_file import (
    DEFAULT_ACCOUNTS,
    AccountsError,
    AccountSpec,
    load_accounts,
)
from smarkets.sandbox.server.credentials import CredentialStore

__all__ = ["DEFAULT_ACCOUNTS", "AccountSpec", "AccountsError", "CredentialStore", "load_accounts"]
