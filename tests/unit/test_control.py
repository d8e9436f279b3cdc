"""The control socket's files: where they go and who may reach them."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from heron.control import _private_folder, bind_control_socket, running_node_socket
from heron.errors import ConfigError


def test_a_link_is_not_taken_for_the_private_folder(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.mkdir(mode=0o755)
    link = tmp_path / "heron-run"
    link.symlink_to(target)
    with pytest.raises(ConfigError, match="not a folder of this user"):
        _private_folder(link)
    assert stat.S_IMODE(target.stat().st_mode) == 0o755  # not chmodded through the link


def test_the_socket_is_announced_and_withdrawn(tmp_path: Path) -> None:
    control = bind_control_socket(tmp_path)
    try:
        assert stat.S_IMODE((tmp_path / "run").stat().st_mode) == 0o700
        assert stat.S_IMODE(control.path.stat().st_mode) == 0o600
        announced = json.loads((tmp_path / "run" / "node.json").read_text())
        assert announced == {"pid": os.getpid(), "socket": str(control.path)}
        # This process's own socket is not "a node serving the directory" to itself.
        assert running_node_socket(tmp_path) is None
    finally:
        control.close()
    assert not control.path.exists() and not (tmp_path / "run" / "node.json").exists()
    # A node file naming a process that is gone names no node.
    (tmp_path / "run" / "node.json").write_text(json.dumps({"pid": 2**22 + 7, "socket": "/x"}))
    assert running_node_socket(tmp_path) is None
    (tmp_path / "run" / "node.json").write_text("{damaged")
    assert running_node_socket(tmp_path) is None
