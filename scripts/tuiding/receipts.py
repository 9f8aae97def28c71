"""The run folder on disk: step records (hash-chained, appended as they finish), screenshots, downloads,
the manifest (a header at the start, completed at the end), and the seal over every file.

Only this module writes into a run folder's records; reports read it afterwards through record.py.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import stat
import tempfile
from datetime import datetime
from pathlib import Path
from typing import IO, ClassVar

from .parallel import offload
from .record import GENESIS, FileEntry, Manifest, StepRecord, canonical, prune_manifest, record_hash
from .signals import interrupts_held

MANIFEST, STEPS = "manifest.json", "steps.jsonl"
# The disk said no: full, over quota, a file over the size limit, or read-only under us.
DISK_REFUSALS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS})


def disk_refused(exc: BaseException) -> bool:
    """The run folder cannot take what the run writes: the run ends in `error`, not a traceback."""
    return isinstance(exc, OSError) and exc.errno in DISK_REFUSALS


# mkstemp makes 0600 files; run folders and guides are shared, so written files get the usual mode.
_UMASK = os.umask(0)
os.umask(_UMASK)
FILE_MODE = 0o666 & ~_UMASK


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def safe_name(text: str, limit: int = 40) -> str:
    """A file-name-safe version of a caption (keeps CJK; drops path, shell and URL-special characters)."""
    s = re.sub(r'[\\/:*?"<>|#%&\s「」\x00-\x1f]+', "-", text).strip("-.")
    return s[:limit] or "step"


def fsync(fd: int) -> None:
    """os.fsync, in a thread when journeys run concurrently: on a busy disk one can take a quarter of a
    second, and on the event loop every running journey would wait for it (measured at -j 4: 192 of them
    blocked all journeys for 0.76 s of a 21.5 s run)."""
    offload(lambda: os.fsync(fd))


def atomic_write(path: Path, data: str | bytes) -> None:
    """Write to a temporary file beside `path`, fsync, then rename: readers never see half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
            f.flush()
            fsync(f.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def manifest_json(manifest: Manifest) -> str:
    return manifest.model_dump_json(indent=2)


def seal_hash(manifest: Manifest) -> str:
    # Fields added within format 1 count only when they hold something, so older folders verify.
    body = prune_manifest(manifest.model_dump(mode="json", exclude={"seal", "signature", "public_key"}))
    return hashlib.sha256(canonical(body)).hexdigest()


def _walk(run_dir: Path) -> list[tuple[str, Path, os.stat_result]]:
    """Every entry below the run folder but folders, never following a link (a link to a folder is listed,
    not entered), with its lstat."""
    out = []
    for root, dirs, files in os.walk(run_dir, followlinks=False):
        for name in sorted(dirs + files):
            p = Path(root) / name
            st = os.lstat(p)
            if not stat.S_ISDIR(st.st_mode):
                out.append((p.relative_to(run_dir).as_posix(), p, st))
    return sorted(out, key=lambda e: e[0])


def run_files(run_dir: Path) -> list[FileEntry]:
    """Every regular file of the run folder but the manifest itself (and no half-written temporaries)."""
    return [
        FileEntry(path=rel, sha256=file_sha256(p), size=st.st_size)
        for rel, p, st in _walk(run_dir)
        if stat.S_ISREG(st.st_mode) and rel != MANIFEST and not (p.name.startswith(".") and p.name.endswith(".tmp"))
    ]


def irregular_files(run_dir: Path) -> list[str]:
    """Links, pipes, sockets and devices in a run folder: a run writes none, and no reader opens them."""
    return [rel for rel, _, st in _walk(run_dir) if not stat.S_ISREG(st.st_mode)]


class RunFolder:
    """runs/<YYYYmmdd-HHMMSS>-<slug>/ with receipts/, downloads/, steps.jsonl, manifest.json."""

    made: ClassVar[list[Path]] = []  # every run folder this process made: what a Ctrl-C must leave sealed

    def __init__(self, out_dir: Path, slug: str, started: datetime) -> None:
        base = f"{started:%Y%m%d-%H%M%S}-{slug}"
        out_dir.mkdir(parents=True, exist_ok=True)
        path, n = out_dir / base, 1
        while True:
            try:
                path.mkdir()
                break
            except FileExistsError:  # same second, same scenario (parallel runs): next free name
                n += 1
                path = out_dir / f"{base}-{n}"
        self.path = path
        RunFolder.made.append(path)
        self.receipts = path / "receipts"
        self.receipts.mkdir()
        self.records: list[StepRecord] = []
        # Unbuffered: a line the disk refuses is cut off again at once, never flushed later by close().
        self._jsonl: IO[bytes] | None = (path / STEPS).open("ab", buffering=0)

    def screenshot_path(self, index: int, caption: str) -> Path:
        return self.receipts / f"{index:02d}-{safe_name(caption)}.png"

    def mail_path(self, index: int) -> Path:
        """Where step `index`'s received e-mail is kept (named by the step: a subject may hold anything)."""
        d = self.path / "mail"
        d.mkdir(exist_ok=True)
        return d / f"{index:02d}.eml"

    def download_path(self, name: str) -> Path:
        d = self.path / "downloads"
        d.mkdir(exist_ok=True)
        target = d / safe_name(Path(name).name, 80)
        stem, suffix, n = target.stem, target.suffix, 1
        while target.exists():
            n += 1
            target = d / f"{stem}-{n}{suffix}"
        return target

    def append(self, record: StepRecord) -> StepRecord:
        """Seal the record into the chain and append it to steps.jsonl (flushed and fsynced).
        A Ctrl-C meanwhile is delivered after: the record is in both the list and the file, or in neither."""
        if record.screenshot:
            record.sha256 = file_sha256(self.path / record.screenshot)
        record.prev_hash = self.records[-1].hash if self.records else GENESIS
        record.hash = record_hash(record)
        line = (json.dumps(record.model_dump(mode="json"), ensure_ascii=False) + "\n").encode("utf-8")
        assert self._jsonl is not None, "the run folder is closed"
        with interrupts_held():
            self._write_whole_line(line)
            self.records.append(record)
        fsync(self._jsonl.fileno())
        return record

    def _write_whole_line(self, line: bytes) -> None:
        """The whole line or nothing: when the disk refuses part of it, the file is cut back to where it was
        (truncating needs no space), so steps.jsonl never holds a record the run does not."""
        assert self._jsonl is not None
        fd = self._jsonl.fileno()
        before = os.fstat(fd).st_size
        try:
            view = memoryview(line)
            while view:
                view = view[os.write(fd, view) :]
        except OSError:
            os.ftruncate(fd, before)
            raise

    def write_manifest(self, manifest: Manifest) -> Manifest:
        """The manifest with every step record so far (atomic: never seen half-written)."""
        manifest = manifest.model_copy(
            update={"steps": list(self.records), "chain_head": self.records[-1].hash if self.records else GENESIS}
        )
        atomic_write(self.path / MANIFEST, manifest_json(manifest))
        return manifest

    def drop_unrecorded(self) -> list[Path]:
        """Remove receipts and downloads no step record names: what a step interrupted between its
        screenshot and its record left behind (the step is not part of the run, so neither is its file)."""
        named = {r.screenshot for r in self.records if r.screenshot}
        named |= {d for r in self.records for d in r.events.downloads}
        dropped = []
        for folder in (self.receipts, self.path / "downloads"):
            for f in sorted(folder.glob("*")) if folder.is_dir() else []:
                if f.is_file() and f.relative_to(self.path).as_posix() not in named:
                    f.unlink()
                    dropped.append(f)
        return dropped

    def close(self) -> None:
        if self._jsonl is not None:
            self._jsonl.close()
            self._jsonl = None


def seal(run_dir: Path, manifest: Manifest, *, key: object | None = None) -> Manifest:
    """Cover the finished run: every file's SHA-256 and a seal over the whole manifest (signed with `key`)."""
    sealed = manifest.model_copy(update={"files": run_files(run_dir), "seal": None, "signature": None, "public_key": None})
    sealed.seal = seal_hash(sealed)
    if key is not None:
        from . import signing

        sealed.signature, sealed.public_key = signing.sign(key, sealed.seal)
    atomic_write(run_dir / MANIFEST, manifest_json(sealed))
    return sealed
