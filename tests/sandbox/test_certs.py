"""The generated CA and server certificate: files, names, and a real verified handshake."""

from __future__ import annotations

import ipaddress
import ssl
import stat
from pathlib import Path

import pytest

from smarkets.sandbox import certs

x509 = pytest.importorskip("cryptography.x509")


def handshake(server_context: ssl.SSLContext, client_context: ssl.SSLContext, name: str) -> None:
    """A TLS handshake between the two contexts in memory; raises if verification fails."""
    c_in, c_out, s_in, s_out = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
    client = client_context.wrap_bio(c_in, c_out, server_hostname=name)
    server = server_context.wrap_bio(s_in, s_out, server_side=True)
    done = {"client": False, "server": False}
    for _ in range(10):
        for label, obj, out, peer_in in (
            ("client", client, c_out, s_in),
            ("server", server, s_out, c_in),
        ):
            if not done[label]:
                try:
                    obj.do_handshake()
                    done[label] = True
                except ssl.SSLWantReadError:
                    pass
            peer_in.write(out.read())
        if all(done.values()):
            return
    raise AssertionError("handshake did not finish")


def test_files_created(tmp_path: Path) -> None:
    files = certs.generate(tmp_path / "certs", "127.0.0.1")
    for path in (files.ca_file, files.cert_file, files.key_file):
        assert path.exists() and path.stat().st_size > 0
    assert stat.S_IMODE(files.key_file.stat().st_mode) == 0o600
    assert b"PRIVATE KEY" not in files.ca_file.read_bytes()
    # a second run replaces them
    again = certs.generate(tmp_path / "certs", "127.0.0.1")
    assert again.ca_file.read_bytes() != b"" and again == files


def test_subject_alt_names(tmp_path: Path) -> None:
    files = certs.generate(tmp_path, "sandbox.example")
    cert = x509.load_pem_x509_certificate(files.cert_file.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(san.get_values_for_type(x509.DNSName)) == {"localhost", "sandbox.example"}
    assert set(san.get_values_for_type(x509.IPAddress)) == {
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("::1"),
    }
    assert certs.subject_alt_names("0.0.0.0") == ["localhost", "127.0.0.1", "::1"]
    assert certs.subject_alt_names("10.1.2.3")[-1] == "10.1.2.3"


def test_ca_verifies_server_certificate(tmp_path: Path) -> None:
    files = certs.generate(tmp_path, "10.9.8.7")
    server_context = certs.server_context(files)
    for name in ("localhost", "127.0.0.1", "::1", "10.9.8.7"):
        client_context = ssl.create_default_context(cafile=str(files.ca_file))
        handshake(server_context, client_context, name)
    # a name the certificate does not carry is refused
    client_context = ssl.create_default_context(cafile=str(files.ca_file))
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(server_context, client_context, "elsewhere.example")
    # so is the certificate, without the CA
    other = certs.generate(tmp_path / "other", None)
    client_context = ssl.create_default_context(cafile=str(other.ca_file))
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(server_context, client_context, "localhost")
