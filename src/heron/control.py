"""The node's local socket: ``heron`` commands reach a running ``heron serve`` through it.

DuckDB lets one process open a data directory. While ``heron serve`` holds it, the
commands that would open it (``ingest``, ``search``, ``alerts``, ``hunt``, …) ask that
node over a Unix socket instead of failing (``heron.cli.node``).

The socket is ``<data-dir>/run/node.sock``. The folder is mode 0700 and the socket 0600,
so only the node's OS user (and root) can connect: the people who can read the data
directory's files anyway (the PostgreSQL "peer" and Docker socket model). The node
serves its API there as the local admin ``local:<user>``, and the audit log records
that name. ``run/node.json`` names the socket and the node's pid. The operating
system bounds a socket path to about 100 bytes; a longer one goes in
``/tmp/heron-<uid>/``, a folder only that user may use.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from heron.errors import ConfigError
from heron.processes import alive

__all__ = ["ControlSocket", "bind_control_socket", "local_user", "running_node_socket"]

RUN_FOLDER = "run"
NODE_FILE = "node.json"
#: Longest socket path every platform takes (``sun_path`` is 104 bytes on BSD, 108 on Linux).
MAX_SOCKET_PATH = 100


def local_user() -> str:
    """The OS user a local caller is taken for (the node's own)."""
    import getpass  # here: every `heron ingest` imports this module, few need a name

    try:
        return getpass.getuser()
    except Exception:  # no name for this uid (a container's numeric user)
        return str(os.getuid())


@dataclass(slots=True)
class ControlSocket:
    """A bound, listening control socket and the files that announce it."""

    sock: socket.socket
    path: Path
    node_file: Path

    def close(self) -> None:
        """Stop listening and remove the socket and the node file (if still ours)."""
        self.sock.close()
        with contextlib.suppress(OSError):
            self.path.unlink()
        with contextlib.suppress(OSError, ValueError):
            if json.loads(self.node_file.read_text())["pid"] == os.getpid():
                self.node_file.unlink()


def _private_folder(folder: Path) -> Path:
    """``folder``, made or checked to be this user's own (not a link), then mode 0700."""
    folder.mkdir(parents=True, exist_ok=True)
    info = folder.lstat()  # checked before the chmod, which would follow a link
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise ConfigError(f"{folder} is not a folder of this user: no control socket there")
    os.chmod(folder, 0o700)
    return folder


def _socket_path(data_dir: Path, run: Path) -> Path:
    path = run / "node.sock"
    if len(str(path)) <= MAX_SOCKET_PATH:
        return path
    digest = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:24]
    base = _private_folder(Path(tempfile.gettempdir()) / f"heron-{os.getuid()}")
    return base / f"{digest}.sock"


def bind_control_socket(data_dir: Path) -> ControlSocket:
    """Bind and listen on the data directory's control socket, and announce it.

    Call it only while holding the data directory (an open store): a socket left by a
    node that crashed is then surely stale and is replaced.
    """
    run = _private_folder(data_dir / RUN_FOLDER)
    path = _socket_path(data_dir, run)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_mask = os.umask(0o177)  # created 0600: no moment where others may connect
    try:
        sock.bind(str(path))
    except OSError:
        sock.close()
        raise
    finally:
        os.umask(old_mask)
    sock.listen(128)
    sock.set_inheritable(True)
    node_file = run / NODE_FILE
    staged = node_file.with_suffix(".tmp")
    staged.write_text(json.dumps({"pid": os.getpid(), "socket": str(path)}))
    os.replace(staged, node_file)
    return ControlSocket(sock, path, node_file)


def running_node_socket(data_dir: Path) -> Path | None:
    """The control socket of the node serving ``data_dir``, if one runs."""
    try:
        announced = json.loads((data_dir / RUN_FOLDER / NODE_FILE).read_text())
        pid, path = int(announced["pid"]), Path(announced["socket"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if pid == os.getpid() or not alive(pid) or not path.exists():
        return None
    return path
