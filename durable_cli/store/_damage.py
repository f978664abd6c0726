"""Damage that plain reads can find in a journal without SQLite: its pointer map and its WAL.

SQLite finds a damaged page when it reads it; these two it may never read, or read only to
silently drop what they hold:
- the pointer map (every page's kind and parent, in an auto-vacuum database such as a diskcache
  one) is read only when a page moves; a few pages of it cover the whole file;
- the write-ahead log is replayed by the first process that opens the journal after a crash,
  which stops at the first frame whose header or checksum is wrong and forgets it and every
  frame after it: the latest commits would vanish without an error. The shared-memory index
  beside it (the -shm file) still says how many frames there were and with which salts.
A concurrent writer can make a look inconsistent for a moment; callers look again before they
conclude (see `_files.check_database`).
"""

from __future__ import annotations

import fcntl
import mmap
import os
import struct
import sys

TYPE_CHECKING = False  # typing costs `durable send` more than its whole check
if TYPE_CHECKING:
    from typing import BinaryIO

__all__ = ["ptrmap_problem", "shm_header", "wal_problem"]

_WAL_MAGIC = (0x377F0682, 0x377F0683)  # low bit: checksums over big-endian words
_WAL_HEADER = 32
_FRAME_HEADER = 24
_PENDING_BYTE = 0x40000000  # SQLite never uses the page holding this offset
_PTRMAP_KINDS = b"\x01\x02\x03\x04\x05"  # root, free, overflow 1 and 2, b-tree
_SHM_DMS = 128  # the -shm byte every connection read-locks while it is open (unix VFS)
# `struct flock` as the C library lays it out, for fcntl(F_GETLK)
_FLOCK = {
    "linux": ("hhqqi4x", ("l_type", "l_whence", "l_start", "l_len", "l_pid")),
    "darwin": ("qqihh", ("l_start", "l_len", "l_pid", "l_type", "l_whence")),
}


def shm_header(db: str) -> bytes | None:
    """The WAL index header in the -shm file (48 bytes), when it is whole and initialised."""
    try:
        with open(db + "-shm", "rb") as fh:
            head = fh.read(136)
    except OSError:
        return None
    if len(head) < 136:
        return None
    # two copies of the header (48 bytes each, native byte order): a writer updates them one
    # after the other, so unequal copies are a write in progress (or never written)
    first, second = head[:48], head[48:96]
    if first != second or not first[12]:
        return None
    return head


def ptrmap_problem(fh: BinaryIO, header: bytes, pages: int, page_size: int) -> str | None:
    """A pointer-map entry among the first `pages` pages that names no kind of page (the
    pointer map is damaged); None: fine."""
    if not struct.unpack(">I", header[52:56])[0]:
        return None  # not an auto-vacuum database: no pointer map
    per_map = (page_size - header[20]) // 5  # 5 bytes an entry; byte 20: reserved per page
    pending = _PENDING_BYTE // page_size + 1  # a page SQLite never uses, nor maps
    first = 2
    while first <= pages:
        map_page = first + 1 if first == pending else first
        covered = min(per_map, pages - map_page)
        if covered <= 0:
            break
        entries = os.pread(fh.fileno(), covered * 5, (map_page - 1) * page_size)
        kinds = bytearray(entries[: covered * 5 : 5])
        if map_page < pending <= map_page + len(kinds):
            kinds[pending - map_page - 1] = 1
        if kinds.translate(None, _PTRMAP_KINDS):
            return f"the state database's pointer map is damaged (page {map_page})"
        first += per_map + 1
    return None


def wal_problem(db: str, page_size: int) -> str | None:
    """What is wrong with the WAL beside `db` (commits it holds would be lost); None: fine."""
    wal = db + "-wal"
    try:
        with open(wal, "rb") as fh:
            return _log_problem(fh, wal, shm_header(db), page_size)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"can't read {_name(wal)} ({exc.strerror})"


def _log_problem(fh: BinaryIO, wal: str, shm: bytes | None, page_size: int) -> str | None:
    size = os.fstat(fh.fileno()).st_size
    frames = struct.unpack("=I", shm[16:20])[0] if shm else 0
    if size < _WAL_HEADER:
        return _lost(wal, "is truncated") if frames else None  # empty: nothing to replay
    head = fh.read(_WAL_HEADER)
    problem = _header_problem(head, page_size)
    if problem or not frames or shm is None:
        # without an index to hold it to, SQLite replays whatever checks out
        return _lost(wal, problem) if problem else None
    (stored,) = struct.unpack("=H", shm[14:16])  # 65,536 is kept as 1
    if shm[32:40] != head[16:24] or (stored & 0xFE00) + ((stored & 1) << 16) != page_size:
        return _lost(wal, "does not match its index (-shm)")
    stride = _FRAME_HEADER + page_size
    if size < _WAL_HEADER + frames * stride:
        return _lost(wal, "is truncated")
    # while a process has the journal open, SQLite finds frames through the index and never
    # replays the log: a frame header matters at the next replay, after that process dies.
    # Reading every frame's header costs about one page of the WAL each, so only then
    every = not _in_use(wal[: -len("-wal")] + "-shm")
    bad = _bad_frame(fh, frames, stride, head, shm[24:32], every)
    if bad:
        return _lost(wal, f"has a damaged frame ({bad} of {frames})")
    return None


def _in_use(shm: str) -> bool:
    """Whether a process has the journal open: SQLite holds a read lock on one byte of the -shm
    file (its "dead man switch") from opening to closing. True when it can't tell."""
    layout = _FLOCK.get(sys.platform)
    if layout is None:
        return True
    fmt, fields = layout
    query = dict(l_type=fcntl.F_WRLCK, l_whence=os.SEEK_SET, l_start=_SHM_DMS, l_len=1, l_pid=0)
    try:
        fd = os.open(shm, os.O_RDONLY)
    except OSError:
        return False  # no index: nobody has the journal open
    try:
        answer = fcntl.fcntl(fd, fcntl.F_GETLK, struct.pack(fmt, *(query[f] for f in fields)))
    except (OSError, struct.error):
        return True
    finally:
        os.close(fd)
    return dict(zip(fields, struct.unpack(fmt, answer), strict=True))["l_type"] != fcntl.F_UNLCK


def _name(wal: str) -> str:
    return os.path.basename(wal)


def _lost(wal: str, what: str) -> str:
    return f"{_name(wal)} {what}: replaying it would lose the latest commits"


def _header_problem(head: bytes, page_size: int) -> str | None:
    magic, _version, wal_page = struct.unpack(">III", head[:12])
    if magic not in _WAL_MAGIC:
        return "is not a write-ahead log (garbled header)"
    if wal_page != page_size:
        return "has a damaged header (page size)"
    if _checksum(head[:24], magic & 1) != struct.unpack(">II", head[24:32]):
        return "has a damaged header (checksum)"
    return None


def _checksum(data: bytes, big_endian: int, s0: int = 0, s1: int = 0) -> tuple[int, int]:
    """SQLite's WAL checksum of `data` (a multiple of 8 bytes), going on from `s0`, `s1`."""
    words = struct.unpack(f"{'>' if big_endian else '<'}{len(data) // 4}I", data)
    for i in range(0, len(words), 2):
        s0 = (s0 + words[i] + s1) & 0xFFFFFFFF
        s1 = (s1 + words[i + 1] + s0) & 0xFFFFFFFF
    return s0, s1


def _bad_frame(
    fh: BinaryIO, frames: int, stride: int, head: bytes, last_sum: bytes, every: bool
) -> int:
    """The first of `frames` frames whose header carries other salts than the log's (`every`:
    looking at each), or the last one when its checksum is wrong or not the one the index
    recorded; 0: all fine.

    Checking every frame's checksum would cost reading the whole WAL in Python: a frame before
    the last whose page bytes alone were changed is left to SQLite's replay."""
    salts = head[16:24]
    with mmap.mmap(fh.fileno(), 0, prot=mmap.PROT_READ) as mm:
        end = _WAL_HEADER + frames * stride
        last = end - stride
        if every:
            # each frame header's two salt words in one strided copy (8-byte aligned: the log
            # header and a frame are multiples of 8 bytes, the salts 8 bytes into a frame)
            with memoryview(mm) as whole, whole[_WAL_HEADER:end].cast("Q") as words:
                found = words[1 :: stride // 8].tobytes()
            if found != salts * frames:
                for index in range(frames):
                    if found[index * 8 : index * 8 + 8] != salts:
                        return index + 1
        elif mm[last + 8 : last + 16] != salts:
            return frames
        # each frame's checksum goes on from the one before it (the first's from the header's);
        # frame headers store them big-endian, the index natively
        before = head[24:32] if frames == 1 else mm[last - stride + 16 : last - stride + 24]
        stored = struct.unpack(">II", mm[last + 16 : last + 24])
        summed = _checksum(
            mm[last : last + 8] + mm[last + _FRAME_HEADER : end],
            head[3] & 1,
            *struct.unpack(">II", before),
        )
        if stored != struct.unpack("=II", last_sum) or summed != stored:
            return frames
    return 0
