"""Output folders: refuse what must not be replaced, lock, write aside, swap in at the end.

Every output folder netplan writes (run, demo, compare, sweep) holds a marker file,
``.netplan-output`` (JSON: kind, version, time, the writing process). ``--overwrite``
replaces only such a folder, or one an earlier release wrote (recognised by its record and
by holding netplan's file names only), and never one that is, holds or lies inside
something the work reads (the scenario file, an input layer, the road network, a run being
compared), nor the current folder.

Outputs are written into ``.NAME.tmp-<8 hex digits>`` beside the target under a lock
(``.NAME.netplan-lock``, ``fcntl.flock``) held from the check to the swap, so a second
writer of the same folder fails at once instead of mixing files. The swap exchanges the two
folders in one step (Linux ``renameat2``) or renames the old one aside first; an error or
Ctrl-C removes the temporary folder. Folders left by a writer that was killed (its process
gone, known from the marker) are removed by the next write into the same parent folder,
which says so.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import errno
import json
import os
import re
import shutil
import signal
import socket
import threading
import uuid
import warnings
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from netplan._errors import NetplanWarning, OutputError

try:
    import fcntl
except ImportError:  # not POSIX: no locking
    fcntl = None

MARKER = ".netplan-output"
RUN_NAMES = frozenset(
    {"plan.gpkg", "kpis.csv", "outlets.csv", "plan.xlsx", "run.json", "map.html", "report.html"}
)
COMPARE_NAMES = frozenset(
    {"sites.csv", "kpi_deltas.csv", "cost.csv", "outlets.csv", "compare.json", "compare.html"}
)
SWEEP_NAMES = frozenset({"sweep.csv", "sweep.png", "points"})
_LEFTOVER = re.compile(r"^\.(?P<name>.+)\.(?P<what>tmp|old)-[0-9a-f]{8}$")
_RENAME_EXCHANGE = 2  # linux/fs.h
_AT_FDCWD = -100

#: What a piece of work reads, as (what it is, path) pairs: never replaced by its output.
Protected = Iterable[tuple[str, "str | Path | None"]]


def scenario_paths(scenario) -> list[tuple[str, Path]]:
    """The files a scenario reads, labelled: the scenario file, its input layers, its road network.

    Parameters
    ----------
    scenario : netplan.Scenario

    Returns
    -------
    list of (str, Path)
        Pairs for the ``protect`` argument of :func:`check_output_dir`.
    """
    found = [("the scenario file", Path(scenario.source))] if scenario.source else []
    found += [(f"input layer '{k}'", Path(s.path)) for k, s in scenario.layer_specs().items()]
    if scenario.travel.network is not None:
        found.append(("the road network", Path(scenario.travel.network)))
    return found


# ----------------------------------------------------------------------------- checks
def check_output_dir(
    target: str | Path,
    overwrite: bool = False,
    *,
    protect: Protected = (),
    hold_lock: bool = False,
) -> Path:
    """Refuse an unusable output folder before any work is done; returns its (created) parent.

    Parameters
    ----------
    target : str or Path
        The output folder; a symbolic link stands for the folder it leads to.
    overwrite : bool
        Allow replacing a non-empty folder, if netplan wrote it.
    protect : iterable of (str, path)
        What the work reads (see :func:`scenario_paths`): the target must not be, hold or lie
        inside any of these.
    hold_lock : bool
        Also take the folder's lock and keep it until :func:`atomic_directory` writes the
        folder or :func:`release_held_locks` is called (at the latest, at exit), so that a
        second writer fails before it spends time on a plan.

    Returns
    -------
    Path
        The real parent folder of the target.

    Raises
    ------
    OutputError
        The target is a file or a dangling link, holds or is an input, is the current folder,
        is not empty (without ``overwrite``), was not written by netplan (with it), is locked
        by another netplan process, or its parent cannot be created or written.
    """
    target = Path(target)
    real, parent = _check(target, overwrite, list(protect))
    if hold_lock:
        key = str(_lock_path(real))
        with _HELD_GUARD:
            if key not in _HELD:
                _HELD[key] = _take_lock(target, real)
    return parent


def _check(target: Path, overwrite: bool, protect: list) -> tuple[Path, Path]:
    real = _resolve_target(target)
    if real.exists() and not real.is_dir():
        raise OutputError(f"{target}: exists and is a file; give a folder path for --out")
    _check_protected(target, real, protect)
    if real.is_dir():
        _check_cwd(target, real)
        try:
            busy = any(real.iterdir())
        except OSError as exc:
            raise OutputError(
                f"{target}: cannot read the folder ({exc.strerror}); choose another --out"
            ) from None
        if busy and not overwrite:
            raise OutputError(
                f"{target}: output folder exists and is not empty; choose another folder or pass --overwrite"
            )
        why = _why_not_netplans(real) if busy else None
        if why:
            raise OutputError(
                f"{target}: not an output folder netplan wrote ({why}); --overwrite replaces only "
                "those: choose another --out, or empty the folder yourself"
            )
    parent = real.parent
    if parent == real:
        raise OutputError(f"{target}: is the root folder; choose a folder for --out")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"{parent}: cannot create the output's parent folder ({exc.strerror}); choose a writable place"
        ) from None
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"{parent}: folder is not writable; choose a writable place for --out")
    return real, parent


def _resolve_target(target: Path) -> Path:
    """The real folder ``target`` names (``..`` and links resolved); a link must lead somewhere."""
    if target.is_symlink():
        try:
            return target.resolve(strict=True)
        except FileNotFoundError:
            raise OutputError(
                f"{target}: --out is a symbolic link to {os.readlink(target)}, which does not exist; "
                "create that folder or remove the link"
            ) from None
        except (RuntimeError, OSError):  # a loop of links (RuntimeError before Python 3.13)
            raise OutputError(
                f"{target}: --out is a symbolic link that leads in a loop; remove the link"
            ) from None
    return Path(os.path.realpath(target))


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _check_protected(target: Path, real: Path, protect: list) -> None:
    for label, path in protect:
        if path is None or not os.path.lexists(path):
            continue
        p = Path(os.path.realpath(path))
        if _within(p, real):
            what = f"is {label}" if p == real else f"holds {label} ({path})"
            raise OutputError(
                f"{target}: the output folder {what}; netplan never writes over what it reads: "
                "choose another --out"
            )
        if p.is_dir() and _within(real, p):
            raise OutputError(
                f"{target}: the output folder lies inside {label} ({path}); "
                "netplan never writes into what it reads: choose another --out"
            )


def _check_cwd(target: Path, real: Path) -> None:
    try:
        cwd = Path(os.path.realpath(Path.cwd()))
    except OSError:  # the current folder was removed
        return
    if _within(cwd, real):
        raise OutputError(
            f"{target}: is the current folder or holds it, and an output folder is replaced as a "
            "whole; run netplan from another folder or choose another --out"
        )


def _why_not_netplans(folder: Path) -> str | None:
    """Why ``folder`` does not look like netplan's output (None: it does)."""
    if _read_marker(folder) is not None:
        return None
    names = sorted(p.name for p in folder.iterdir())
    if MARKER in names:
        return f"its {MARKER} marker is not one netplan wrote"
    for record, allowed in (  # noqa: B007 (used after the loop, which breaks at the match)
        ("run.json", RUN_NAMES),
        ("compare.json", COMPARE_NAMES),
        ("sweep.csv", SWEEP_NAMES),
    ):
        if record in names:
            break
    else:
        more = f" and {len(names) - 1} more" if len(names) > 1 else ""
        return (
            f"it holds {names[0]}{more} but no {MARKER} marker nor a netplan run.json, "
            "compare.json or sweep.csv"
        )
    extra = [n for n in names if n not in allowed]
    if extra:
        more = f" and {len(extra) - 1} more" if len(extra) > 1 else ""
        return f"it holds {extra[0]}{more}, which netplan does not write"
    if not _is_record(folder / record):
        return f"its {record} is not one netplan wrote"
    if record == "sweep.csv" and "points" in names:
        for point in sorted((folder / "points").iterdir()):
            inner = sorted(p.name for p in point.iterdir()) if point.is_dir() else []
            odd = [n for n in inner if n not in RUN_NAMES]
            if not re.fullmatch(r"p\d{3,}", point.name) or not inner or odd:
                where = f"points/{point.name}" + (f"/{odd[0]}" if odd else "")
                return f"it holds {where}, which netplan does not write"
            if not _is_record(point / "run.json"):
                return f"its points/{point.name}/run.json is not one netplan wrote"
    return None


def _kind(folder: Path) -> str:
    """What a netplan output folder holds: from its marker, or an earlier release's record."""
    marker = _read_marker(folder) or {}
    if isinstance(marker.get("kind"), str):
        return marker["kind"]
    for kind, record in (("compare", "compare.json"), ("sweep", "sweep.csv")):
        if (folder / record).exists():
            return kind
    return "run"


def _is_record(path: Path) -> bool:
    """Whether ``path`` is a record netplan writes: run.json, compare.json or sweep.csv."""
    try:
        if path.is_symlink() or not path.is_file():
            return False
        if path.name == "sweep.csv":
            with path.open(encoding="utf-8") as fh:
                return fh.readline().startswith("point,")
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if path.name == "run.json":
        return isinstance(data, dict) and "netplan_run" in data
    return isinstance(data, dict) and {"run_a", "run_b", "sites"} <= set(data)


# ----------------------------------------------------------------------------- marker
def _read_marker(folder: Path) -> dict | None:
    path = folder / MARKER
    try:
        if path.is_symlink() or not path.is_file():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("netplan_output") == 1 else None


def _write_marker(folder: Path, kind: str, state: str) -> None:
    from netplan._version import __version__

    pid = os.getpid()
    record = {
        "netplan_output": 1,
        "kind": kind,
        "version": __version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "state": state,  # writing, complete, or replaced (an old folder being removed)
        "host": socket.gethostname(),
        "pid": pid,
        "pid_start": _start_time(pid),
    }
    (folder / MARKER).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """State and start time of a process (Linux ``/proc``), None where unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2 :].split()
        return fields[0], int(fields[19])
    except (OSError, ValueError, IndexError):
        return None


def _start_time(pid: int) -> int | None:
    """Start time of a process, so that a reused process id is not taken for its writer."""
    stat = _proc_stat(pid)
    return None if stat is None else stat[1]


def _gone(marker: dict) -> bool:
    """Whether the process that wrote ``marker`` has ended (known only on this host)."""
    pid = marker.get("pid")
    if marker.get("host") != socket.gethostname() or not isinstance(pid, int) or pid <= 0:
        return False
    if os.name != "posix":  # os.kill(pid, 0) would end the process on Windows
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # another user's process: alive
        return False
    stat = _proc_stat(pid)
    if stat is None:
        return False
    state, started = stat
    start = marker.get("pid_start")
    return state in ("Z", "X") or (start is not None and started != start)  # zombie, or reused


# ------------------------------------------------------------------------------ locks
class _Lock:
    """An exclusive ``flock`` on ``.NAME.netplan-lock``; the file is removed on release."""

    def __init__(self, path: Path, fd: int | None):
        self.path, self.fd = path, fd

    @classmethod
    def take(cls, path: Path) -> _Lock | None:
        """The lock, or None when another process holds it."""
        if fcntl is None:
            return cls(path, None)
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return None
            except OSError:  # a file system without flock: go on unlocked
                os.close(fd)
                return cls(path, None)
            try:
                ours = os.stat(path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                ours = False
            if ours:
                return cls(path, fd)
            os.close(fd)  # its holder removed the file meanwhile: lock the new one

    def release(self) -> None:
        if self.fd is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.path)  # while still locked, so no one holds a removed file
            os.close(self.fd)
            self.fd = None


_HELD: dict[str, _Lock] = {}
_HELD_GUARD = threading.Lock()


def _lock_path(real: Path) -> Path:
    return real.parent / f".{real.name}.netplan-lock"


def _take_lock(target: Path, real: Path) -> _Lock:
    try:
        lock = _Lock.take(_lock_path(real))
    except OSError as exc:
        raise OutputError(
            f"{real.parent}: cannot write there ({exc.strerror}); choose a writable place for --out"
        ) from None
    if lock is None:
        raise OutputError(
            f"{target}: another netplan process is writing this output folder now; wait for it "
            "to finish or choose another --out"
        )
    return lock


def release_held_locks() -> None:
    """Release the locks taken by ``check_output_dir(..., hold_lock=True)`` and not yet used."""
    with _HELD_GUARD:
        locks = list(_HELD.values())
        _HELD.clear()
    for lock in locks:
        lock.release()


atexit.register(release_held_locks)


# ---------------------------------------------------------------------------- writing
@contextlib.contextmanager
def atomic_directory(
    target: str | Path, overwrite: bool = False, *, protect: Protected = (), kind: str = "run"
) -> Iterator[Path]:
    """A temporary folder that replaces ``target`` only if the block finishes.

    Parameters
    ----------
    target : str or Path
        The output folder (a symbolic link: the folder it leads to, with a warning saying so).
    overwrite : bool
        Replace an existing, non-empty ``target`` that netplan wrote; otherwise that is an error.
    protect : iterable of (str, path)
        What the work reads, never replaced (see :func:`check_output_dir`).
    kind : str
        What the folder holds (``run``, ``compare``, ``sweep``), for its marker file.

    Raises
    ------
    OutputError
        See :func:`check_output_dir`; also when the folder cannot be written or replaced.
    """
    target = Path(target)
    protect = list(protect)
    real, _ = _check(target, overwrite, protect)
    with _HELD_GUARD:
        lock = _HELD.pop(str(_lock_path(real)), None)
    if lock is None:
        lock = _take_lock(target, real)
    tmp: Path | None = None
    try:
        real, parent = _check(target, overwrite, protect)  # again: it may have changed meanwhile
        if target.is_symlink():
            _note(
                f"{target}: --out is a symbolic link; writing into the folder it leads to, {real}"
            )
        _remove_leftovers(parent, real.name)
        tmp = parent / f".{real.name}.tmp-{uuid.uuid4().hex[:8]}"
        try:
            tmp.mkdir()
            _write_marker(tmp, kind, "writing")
        except OSError as exc:
            raise OutputError(
                f"{parent}: cannot write there ({exc.strerror}); choose a writable place for --out"
            ) from None
        yield tmp
        _write_marker(tmp, kind, "complete")
        old = _swap(tmp, real)
        tmp = None
        if old is not None:
            _remove(old)
    except BaseException:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        lock.release()


def _swap(tmp: Path, target: Path) -> Path | None:
    """Put ``tmp`` in the place of ``target``; returns where the old folder went (to remove)."""
    with _signals_held():
        try:
            if not target.exists() or not any(target.iterdir()):
                os.rename(tmp, target)  # replaces an empty folder in one step
                return None
            # from here on the old folder carries this process's marker: a leftover of it is known
            _write_marker(target, _kind(target), "replaced")
            if _exchange(tmp, target):
                return tmp
            old = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
            os.rename(target, old)
            try:
                os.rename(tmp, target)
            except BaseException:
                os.rename(old, target)
                raise
            return old
        except OSError as exc:
            raise OutputError(
                f"{target}: cannot replace the folder ({exc.strerror}); nothing was changed"
            ) from None


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders in one step (Linux ``renameat2``); False where that is not available."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    path, fd = ctypes.c_char_p, ctypes.c_int
    renameat2.argtypes = [fd, path, fd, path, ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM during the renames of a swap, so that none is left half done."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def _remove(folder: Path) -> None:
    """Remove a folder, its marker last: a removal cut short is still known as netplan's."""
    with contextlib.suppress(OSError):
        for entry in list(os.scandir(folder)):
            if entry.name == MARKER:
                continue
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
        os.unlink(folder / MARKER)
        os.rmdir(folder)


def _remove_leftovers(parent: Path, own: str) -> None:
    """Remove the temporary and old folders that killed netplan processes left in ``parent``."""
    found: dict[str, list[Path]] = {}
    with contextlib.suppress(OSError):
        for entry in os.scandir(parent):
            match = _LEFTOVER.match(entry.name)
            if match and entry.is_dir(follow_symlinks=False):
                found.setdefault(match["name"], []).append(Path(entry.path))
    removed, restored = [], []
    for name, paths in sorted(found.items()):
        lock = None
        if name != own:  # ours is locked already; another name's only if no one writes it now
            with contextlib.suppress(OSError):
                lock = _Lock.take(parent / f".{name}.netplan-lock")
            if lock is None:
                continue
        try:
            for path in sorted(paths, key=lambda p: p.name.startswith(f".{name}.tmp-")):
                marker = _read_marker(path)
                if marker is None or not _gone(marker):
                    continue
                target = parent / name
                if path.name.startswith(f".{name}.old-") and not os.path.lexists(target):
                    # killed between the two renames of a swap: put the old folder back
                    with contextlib.suppress(OSError):
                        os.rename(path, target)
                        _write_marker(target, marker.get("kind", "run"), "complete")
                        restored.append(f"{target} (from {path.name})")
                    continue
                _remove(path)
                if not path.exists():
                    removed.append(path.name)
        finally:
            if lock is not None:
                lock.release()
    if removed:
        _note(
            f"{parent}: removed {len(removed)} folder(s) left by netplan runs killed while "
            f"writing: {', '.join(removed)}"
        )
    if restored:
        _note(
            "put back output folder(s) a killed netplan run was replacing: " + ", ".join(restored)
        )


def _note(message: str) -> None:
    warnings.warn(message, NetplanWarning, stacklevel=3)
