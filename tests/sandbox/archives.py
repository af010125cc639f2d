"""Deterministic release archives, generated on the fly and never stored.

A `zip` archive is one STORED member `<stem>/data.bin` whose bytes come from a 1 MiB pseudo-random
block (seeded) with the block number stamped into its first 8 bytes, so every block differs and
any byte can be produced from its offset (Range requests, fast streaming). The member is sized so
that the whole file is exactly the requested size. SHA-256, SHA-1 and CRC-32 are computed once per
archive and cached in memory and in `<state>/digests.json`.
"""

import functools
import hashlib
import io
import json
import random
import struct
import threading
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from .pki import write_atomic
from .web import Body, BytesBody

BLOCK = 1 << 20
MAX_SIZE = 0xFFFFFFFF  # no ZIP64: sizes and offsets must fit 32 bits
KINDS = ("zip", "zip_slip", "zip_bomb", "raw")
GENERATED = ("zip", "raw")
BOMB_SIZE = 200 * BLOCK
DOS_TIME, DOS_DATE = 0, (2020 - 1980) << 9 | 1 << 5 | 1  # 2020-01-01 00:00
LOCAL_HEADER = struct.Struct("<IHHHHHIIIHH")
CENTRAL_HEADER = struct.Struct("<IHHHHHHIIIHHHHHII")
END_RECORD = struct.Struct("<IHHHHIIH")


@dataclass(frozen=True)
class ArchiveSpec:
    """What to generate. `size` is ignored by the small special kinds, whose size is their content."""

    kind: str
    size: int
    seed: int
    stem: str

    @property
    def member(self) -> str:
        """The zip member name."""
        return f"{self.stem}/data.bin"

    @property
    def cache_key(self) -> str:
        """Identity of the archive bytes, for the digest cache."""
        size = self.size if self.kind in GENERATED else 0
        return f"{self.kind}:{self.seed}:{size}:{self.stem}"

    def minimum_size(self) -> int:
        """Smallest total size this kind can be generated at."""
        if self.kind == "zip":
            return LOCAL_HEADER.size + CENTRAL_HEADER.size + END_RECORD.size + 2 * len(self.member.encode())
        return 0

    def validate(self):
        """Raise ValueError for an unknown kind or an impossible size."""
        if self.kind not in KINDS:
            raise ValueError(f"unknown archive kind {self.kind!r}; known: {', '.join(KINDS)}")
        if self.kind in GENERATED and not self.minimum_size() <= self.size <= MAX_SIZE:
            raise ValueError(f"size must be between {self.minimum_size()} and {MAX_SIZE} bytes for kind {self.kind!r}")


@dataclass(frozen=True)
class Digests:
    """Hashes of one archive."""

    size: int
    sha256: str  # upper-case hex, as TRUD publishes it
    sha1: str  # lower-case hex
    crc32: int


@functools.lru_cache(maxsize=16)
def _base_block(seed: int) -> bytes:
    return random.Random(seed).randbytes(BLOCK)


def _data_chunks(seed: int, start: int, end: int):
    """Yield the generated data bytes [start, end) as views of one reused 1 MiB buffer."""
    buf = bytearray(_base_block(seed))
    view = memoryview(buf)
    index = start // BLOCK
    while start < end:
        struct.pack_into("<Q", buf, 0, index)
        low = start - index * BLOCK
        high = min(BLOCK, end - index * BLOCK)
        yield view[low:high]
        start = index * BLOCK + high
        index += 1


class GeneratedBody(Body):  # pylint: disable=too-few-public-methods,too-many-instance-attributes
    """A `zip` or `raw` archive served from its offset. The zip header needs the CRC, asked lazily."""

    def __init__(self, spec: ArchiveSpec, crc32=None):
        self.spec = spec
        self.size = spec.size
        self._crc32 = crc32
        name = spec.member.encode()
        self._name = name
        self._flags = 0 if name.isascii() else 0x800  # bit 11: UTF-8 file name
        if spec.kind == "zip":
            self.head_len = LOCAL_HEADER.size + len(name)
            self.tail_len = CENTRAL_HEADER.size + len(name) + END_RECORD.size
        else:
            self.head_len = self.tail_len = 0
        self.data_len = spec.size - self.head_len - self.tail_len

    def _head(self) -> bytes:
        return LOCAL_HEADER.pack(0x04034B50, 10, self._flags, 0, DOS_TIME, DOS_DATE, self._crc32(),
                                 self.data_len, self.data_len, len(self._name), 0) + self._name

    def _tail(self) -> bytes:
        central = CENTRAL_HEADER.pack(0x02014B50, 3 << 8 | 20, 10, self._flags, 0, DOS_TIME, DOS_DATE, self._crc32(),
                                      self.data_len, self.data_len, len(self._name), 0, 0, 0, 0, 0o100644 << 16, 0)
        end = END_RECORD.pack(0x06054B50, 0, 0, 1, 1, len(central) + len(self._name), self.head_len + self.data_len, 0)
        return central + self._name + end

    def chunks(self, start, end):
        data_start, data_end = self.head_len, self.head_len + self.data_len
        if start < data_start:
            yield self._head()[start:min(end, data_start)]
        if start < data_end and end > data_start:
            yield from _data_chunks(self.spec.seed, max(start, data_start) - data_start, min(end, data_end) - data_start)
        if end > data_end:
            yield self._tail()[max(start, data_end) - data_end:end - data_end]


def _build_special(spec: ArchiveSpec) -> bytes:
    """Small hostile archives, built in memory with fixed timestamps so they are deterministic."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        def info(name, method):
            entry = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            entry.compress_type = method
            entry.external_attr = 0o100644 << 16
            return entry
        if spec.kind == "zip_slip":
            archive.writestr(info(f"{spec.stem}/readme.txt", zipfile.ZIP_STORED), b"A normal member.\n")
            archive.writestr(info("../../evil.txt", zipfile.ZIP_STORED), b"This file escaped the extraction directory.\n")
        else:  # zip_bomb: ~200 MiB of zeros deflating to a few hundred kB
            with archive.open(info(f"{spec.stem}/bomb.bin", zipfile.ZIP_DEFLATED), "w") as member:
                zeros = bytes(BLOCK)
                for _block in range(BOMB_SIZE // BLOCK):
                    member.write(zeros)
    return out.getvalue()


def _hash_stream(body: Body, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    for chunk in body.chunks(0, body.size):
        digest.update(chunk)
    return digest.hexdigest()


class ArchiveStore:
    """Bodies and digests of archives, with the digests cached across restarts."""

    def __init__(self, state_dir: Path):
        self._path = state_dir / "digests.json"
        self._digests: dict[str, Digests] = {}
        self._specials: dict[str, bytes] = {}
        self._lock = threading.Lock()
        if self._path.exists():
            for key, value in json.loads(self._path.read_text()).items():
                self._digests[key] = Digests(**value)

    def _special(self, spec: ArchiveSpec) -> bytes:
        with self._lock:
            if spec.cache_key not in self._specials:
                self._specials[spec.cache_key] = _build_special(spec)
            return self._specials[spec.cache_key]

    def size(self, spec: ArchiveSpec) -> int:
        """The archive's real size, without hashing it."""
        return spec.size if spec.kind in GENERATED else len(self._special(spec))

    def body(self, spec: ArchiveSpec) -> Body:
        """A body that serves the archive from any offset."""
        if spec.kind in GENERATED:
            return GeneratedBody(spec, lambda: self.digests(spec).crc32)
        return BytesBody(self._special(spec))

    def digests(self, spec: ArchiveSpec) -> Digests:
        """Size, SHA-256, SHA-1 and CRC-32, computed on first need and cached."""
        found = self._digests.get(spec.cache_key)
        if found:
            return found
        body = None if spec.kind in GENERATED else self.body(spec)
        with self._lock:  # one computation at a time; a 1 GiB archive takes a second or two
            found = self._digests.get(spec.cache_key)
            if found:
                return found
            found = self._compute(spec, body)
            self._digests[spec.cache_key] = found
            payload = {key: value.__dict__ for key, value in self._digests.items()}
            write_atomic(self._path, json.dumps(payload, indent=1, sort_keys=True).encode())
        return found

    @staticmethod
    def _compute(spec: ArchiveSpec, body: Body | None) -> Digests:
        if body is None:
            generated = GeneratedBody(spec)
            crc = 0
            for chunk in _data_chunks(spec.seed, 0, generated.data_len):
                crc = zlib.crc32(chunk, crc)
            body = GeneratedBody(spec, lambda: crc)
        else:
            crc = 0  # only generated zips need their member CRC
        # hashlib releases the GIL on large updates: hash SHA-1 in a second thread, each with its own stream.
        results = {}
        worker = threading.Thread(target=lambda: results.update(sha1=_hash_stream(body, "sha1")))
        worker.start()
        sha256 = _hash_stream(body, "sha256")
        worker.join()
        return Digests(body.size, sha256.upper(), results["sha1"], crc)
