"""OpenPGP keys (the sandbox's "TRUD" key and a wrong one) and a private CA with a TLS server certificate.

Everything lives in the state directory and is reused on restart, because key generation and the
first signatures are the slow part of starting.
"""

import hashlib
import ipaddress
import json
import os
import subprocess
import tempfile
import threading
import time
from pathlib import Path

PUBLIC_KEY_FILE_NAME = "trud-public-key-2013-04-01.pgp"
WRONG_PUBLIC_KEY_FILE_NAME = "wrong-public-key.pgp"
TRUD_UID = "TRUD Sandbox Signing Key <trud-sandbox@example.invalid>"
WRONG_UID = "Not The TRUD Key <wrong-key@example.invalid>"
# Keys are backdated to the date in TRUD's public key file name so that signatures can carry
# the release's own timestamp (gpg refuses signatures older than their key).
KEY_CREATION_TIME = "20130401T090000"


def write_atomic(path: Path, data: bytes, mode: int = 0o644):
    """Write via a temporary file and rename, so readers never see a partial file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _run(cmd, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, capture_output=True, check=False, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({result.returncode}): {result.stderr.decode(errors='replace').strip()}")
    return result


def _gpg_time(epoch: float) -> str:
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime(epoch)) + "!"


class Keyring:  # pylint: disable=too-many-instance-attributes
    """A GNUPGHOME holding the TRUD key and the wrong key; signs with a disk-backed cache."""

    def __init__(self, state_dir: Path):
        self.home = state_dir / "gnupg"
        self.cache_dir = state_dir / "signatures"
        self.public_key_path = state_dir / PUBLIC_KEY_FILE_NAME
        self.wrong_public_key_path = state_dir / WRONG_PUBLIC_KEY_FILE_NAME
        self._lock = threading.Lock()
        self._memo: dict[str, bytes] = {}
        self.home.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.cache_dir.mkdir(exist_ok=True)
        self.trud_fingerprint = self._ensure_key(TRUD_UID)
        self.wrong_fingerprint = self._ensure_key(WRONG_UID)
        self.public_key = self._export(self.public_key_path, self.trud_fingerprint)
        self.wrong_public_key = self._export(self.wrong_public_key_path, self.wrong_fingerprint)

    def _export(self, path: Path, fingerprint: str) -> bytes:
        if not path.exists():
            write_atomic(path, self._gpg("--armor", "--export", fingerprint).stdout)
        return path.read_bytes()

    def _gpg(self, *args, stdin: bytes | None = None, faked_time: str | None = None):
        cmd = ["gpg", "--homedir", str(self.home), "--batch", "--quiet", "--no-tty",
               "--pinentry-mode", "loopback", "--passphrase", ""]
        if faked_time:
            cmd += ["--faked-system-time", faked_time]
        return _run(cmd + list(args), input=stdin)

    def _fingerprint(self, uid: str) -> str | None:
        listing = subprocess.run(["gpg", "--homedir", str(self.home), "--batch", "--with-colons", "--list-secret-keys", f"={uid}"],
                                 capture_output=True, text=True, check=False).stdout
        for line in listing.splitlines():
            if line.startswith("fpr:"):
                return line.split(":")[9]
        return None

    def _ensure_key(self, uid: str) -> str:
        fingerprint = self._fingerprint(uid)
        if fingerprint:
            return fingerprint
        faked = KEY_CREATION_TIME + "!"
        self._gpg("--quick-gen-key", uid, "rsa2048", "sign,cert", "never", faked_time=faked)
        fingerprint = self._fingerprint(uid)
        # An encryption subkey makes the exported key look like TRUD's (~1.7 kB armoured).
        self._gpg("--quick-add-key", fingerprint, "rsa2048", "encr", "never", faked_time=faked)
        return fingerprint

    def sign(self, data: bytes, when: float, wrong: bool = False) -> bytes:
        """Detached ASCII-armoured signature over `data`, dated `when` (clamped to now)."""
        fingerprint = self.wrong_fingerprint if wrong else self.trud_fingerprint
        when = int(min(when, time.time() - 1))
        name = f"{fingerprint[-16:]}-{when}-{hashlib.sha256(data).hexdigest()}.asc"
        with self._lock:
            if name in self._memo:
                return self._memo[name]
            path = self.cache_dir / name
            if path.exists():
                signature = path.read_bytes()
            else:
                signature = self._gpg("--local-user", fingerprint, "--armor", "--detach-sign", "--output", "-",
                                      stdin=data, faked_time=_gpg_time(when)).stdout
                write_atomic(path, signature)
            self._memo[name] = signature
            return signature

    def close(self):
        """Stop the gpg-agent this keyring started."""
        subprocess.run(["gpgconf", "--homedir", str(self.home), "--kill", "gpg-agent"],
                       capture_output=True, check=False)


def _san_entries(hosts) -> list[str]:
    entries = []
    for host in sorted(set(hosts)):
        try:
            entries.append(f"IP:{ipaddress.ip_address(host)}")
        except ValueError:
            entries.append(f"DNS:{host}")
    return entries


def ensure_tls(state_dir: Path, hosts) -> dict:
    """Create (or reuse) a CA and a server certificate for `hosts`; return their paths."""
    tls = state_dir / "tls"
    tls.mkdir(mode=0o700, exist_ok=True)
    paths = {"ca": tls / "ca.pem", "ca_key": tls / "ca.key", "cert": tls / "server.pem", "key": tls / "server.key"}
    sans = _san_entries(hosts)
    sans_file = tls / "server-sans.json"
    if not (paths["ca"].exists() and paths["ca_key"].exists()):
        _run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
              "-keyout", str(paths["ca_key"]), "-out", str(paths["ca"]), "-days", "3650",
              "-subj", "/O=terminology.releases sandbox/CN=Sandbox Root CA",
              "-addext", "basicConstraints=critical,CA:TRUE",
              "-addext", "keyUsage=critical,keyCertSign,cRLSign",
              "-addext", "subjectKeyIdentifier=hash"])
        paths["cert"].unlink(missing_ok=True)
    current = json.loads(sans_file.read_text()) if sans_file.exists() else None
    if not paths["cert"].exists() or current != sans:
        _issue_server_cert(paths, sans)
        write_atomic(sans_file, json.dumps(sans).encode())
    return {name: str(path) for name, path in paths.items()}


def _issue_server_cert(paths: dict, sans: list[str]):
    csr = paths["cert"].with_suffix(".csr")
    ext = paths["cert"].with_suffix(".ext")
    ext.write_text(
        f"subjectAltName={','.join(sans)}\n"
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=serverAuth\n"
        "subjectKeyIdentifier=hash\n"
        "authorityKeyIdentifier=keyid\n"
    )
    _run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
          "-keyout", str(paths["key"]), "-out", str(csr), "-subj", "/O=terminology.releases sandbox/CN=localhost"])
    _run(["openssl", "x509", "-req", "-in", str(csr), "-CA", str(paths["ca"]), "-CAkey", str(paths["ca_key"]),
          "-set_serial", str(int.from_bytes(os.urandom(8), "big")), "-days", "825", "-sha256",
          "-extfile", str(ext), "-out", str(paths["cert"])])
    csr.unlink()
    ext.unlink()
