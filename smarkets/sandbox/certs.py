"""TLS for the sandbox: a throwaway CA and a server certificate, made fresh at every start.

The sandbox speaks TLS by default, like the real exchange, so that clients are tested with
certificate and host name verification switched on. :func:`generate` writes a self-signed
CA (``ca.pem``) and a server certificate it signed (``server.pem``, key in
``server-key.pem``) whose subject alternative names are ``localhost``, ``127.0.0.1``,
``::1`` and the host the sandbox listens on. A client trusts ``ca.pem`` (its path is
printed at start) and verifies the server as usual. Keys are ECDSA P-256: quick to make.

Requires the ``cryptography`` package (the ``sandbox`` extra).
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography import x509

__all__ = ["CertFiles", "generate", "server_context", "subject_alt_names"]

#: How long the generated certificates are valid.
VALID_DAYS = 30


@dataclass(frozen=True)
class CertFiles:
    """Where :func:`generate` wrote the CA certificate, server certificate and key."""

    ca_file: Path
    cert_file: Path
    key_file: Path


def subject_alt_names(host: str | None = None) -> list[str]:
    """The names the server certificate is valid for: the fixed ones plus ``host``.

    An unspecified address (``0.0.0.0``, ``::``) is not a name to connect to and is left
    out; so is an empty host.
    """
    names = ["localhost", "127.0.0.1", "::1"]
    if host and host not in names:
        try:
            if ipaddress.ip_address(host).is_unspecified:
                return names
        except ValueError:
            pass
        names.append(host)
    return names


def _general_name(name: str) -> x509.GeneralName:
    from cryptography import x509

    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _key_usage(signs_certificates: bool) -> x509.KeyUsage:
    """Digital signatures; certificate and CRL signing for a CA only."""
    from cryptography import x509

    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=signs_certificates,
        crl_sign=signs_certificates,
        encipher_only=False,
        decipher_only=False,
    )


def generate(cert_dir: str | os.PathLike[str], host: str | None = None) -> CertFiles:
    """Make a CA and a server certificate for ``host`` in ``cert_dir``; return the paths.

    Existing files of the same names are replaced. The private keys are written readable by
    the owner only; the CA's key is not written at all (nothing else will be signed).
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    directory = Path(cert_dir)
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    not_before = now - datetime.timedelta(hours=1)
    not_after = now + datetime.timedelta(days=VALID_DAYS)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "smarkets sandbox"),
            x509.NameAttribute(NameOID.COMMON_NAME, "smarkets sandbox CA"),
        ]
    )
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(signs_certificates=True), critical=True)
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    key = ec.generate_private_key(ec.SECP256R1())
    names = subject_alt_names(host)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(signs_certificates=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.SubjectAlternativeName([_general_name(name) for name in names]), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )

    files = CertFiles(
        ca_file=directory / "ca.pem",
        cert_file=directory / "server.pem",
        key_file=directory / "server-key.pem",
    )
    files.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    if files.key_file.exists():
        files.key_file.unlink()
    fd = os.open(files.key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key_pem)
    return files


def server_context(files: CertFiles) -> ssl.SSLContext:
    """A server-side TLS context (TLS 1.2 or later) presenting the generated certificate."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(files.cert_file), str(files.key_file))
    return context
