"""Throwaway certificates for the local control plane, made with the `openssl` binary.

One CA signs the apiserver's serving certificate (127.0.0.1 / localhost) and an admin
client certificate in the `system:masters` group; a separate key pair signs service-account
tokens. Keys are EC P-256: quick to make and accepted by every component.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from stackgen.errors import StackgenError

_DAYS = "3650"
_SERVER_SANS = (
    "IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,"
    "DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
)


@dataclass(frozen=True)
class Pki:
    """Paths of the files one control plane uses."""

    dir: Path

    @property
    def ca_crt(self) -> Path:
        return self.dir / "ca.crt"

    @property
    def ca_key(self) -> Path:
        return self.dir / "ca.key"

    @property
    def server_crt(self) -> Path:
        return self.dir / "apiserver.crt"

    @property
    def server_key(self) -> Path:
        return self.dir / "apiserver.key"

    @property
    def admin_crt(self) -> Path:
        return self.dir / "admin.crt"

    @property
    def admin_key(self) -> Path:
        return self.dir / "admin.key"

    @property
    def sa_key(self) -> Path:
        return self.dir / "sa.key"

    @property
    def sa_pub(self) -> Path:
        return self.dir / "sa.pub"


def _openssl(*args: str, stdin: bytes | None = None) -> None:
    exe = shutil.which("openssl")
    if exe is None:
        raise StackgenError("the local control plane needs the `openssl` binary on PATH")
    subprocess.run([exe, *args], input=stdin, check=True, capture_output=True)


def _new_key(path: Path) -> None:
    _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(path))
    path.chmod(0o600)


def _sign(pki: Pki, key: Path, crt: Path, subject: str, extensions: str) -> None:
    """Issue `crt` for `key`, signed by the CA, with the given v3 extensions."""
    csr = crt.with_suffix(".csr")
    ext = crt.with_suffix(".ext")
    ext.write_text(extensions)
    _openssl("req", "-new", "-key", str(key), "-subj", subject, "-out", str(csr))
    _openssl(
        "x509", "-req", "-in", str(csr), "-CA", str(pki.ca_crt), "-CAkey", str(pki.ca_key),
        "-set_serial", str(secrets.randbits(62) + 2), "-days", _DAYS,
        "-extfile", str(ext), "-out", str(crt),
    )
    csr.unlink()
    ext.unlink()


def make_serving_cert(pki: Pki, directory: Path) -> tuple[Path, Path]:
    """A webhook serving certificate for 127.0.0.1 signed by the sandbox CA, as tls.crt and
    tls.key in `directory` (the file names controller-runtime's webhook server reads)."""
    directory.mkdir(parents=True, exist_ok=True)
    crt, key = directory / "tls.crt", directory / "tls.key"
    _new_key(key)
    _sign(pki, key, crt, "/CN=stackgen-sandbox-webhooks",
          "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n"
          "keyUsage=critical,digitalSignature,keyEncipherment\n")
    return crt, key


def make_pki(directory: Path) -> Pki:
    """Create a CA, the apiserver and admin certificates and the service-account keys."""
    directory.mkdir(parents=True, exist_ok=True)
    pki = Pki(directory)
    _new_key(pki.ca_key)
    _openssl(
        "req", "-x509", "-new", "-key", str(pki.ca_key), "-subj", "/CN=stackgen-sandbox-ca",
        "-days", _DAYS, "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", str(pki.ca_crt),
    )
    _new_key(pki.server_key)
    _sign(
        pki, pki.server_key, pki.server_crt, "/CN=kube-apiserver",
        f"subjectAltName={_SERVER_SANS}\nextendedKeyUsage=serverAuth\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\n",
    )
    _new_key(pki.admin_key)
    _sign(
        pki, pki.admin_key, pki.admin_crt, "/O=system:masters/CN=stackgen-admin",
        "extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n",
    )
    _new_key(pki.sa_key)
    _openssl("pkey", "-in", str(pki.sa_key), "-pubout", "-out", str(pki.sa_pub))
    return pki
