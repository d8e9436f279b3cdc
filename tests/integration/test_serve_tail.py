"""File tailing: growth, restarts, rename rotation and copytruncate, bad lines."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from .serving import (
    ZEEK_CONN_HEADER,
    ServerThread,
    dead_letters,
    query,
    serving,
    stored_events,
)


def line(i: int, tag: str = "app") -> str:
    return f"<13>Oct 11 22:14:{i % 60:02d} host {tag}[1]: line {i}"


def append(path: Path, lines: list[str], *, end: str = "\n") -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write("".join(text + end for text in lines))


def wait_parsed(server: ServerThread, count: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.source_count("tail", "parsed") >= count:
            server.wait_idle()
            return
        time.sleep(0.05)
    raise AssertionError(f"parsed {server.source_count('tail', 'parsed')} of {count}")


def tail_source(folder: Path, pattern: str = "*.log") -> dict[str, object]:
    return {"type": "tail", "name": "tail", "paths": [str(folder / pattern)], "poll_ms": 20}


def originals(data_dir: Path) -> list[str]:
    return sorted(r["o"] for r in query(data_dir, 'SELECT "event.original" AS o FROM events'))


def test_restart_neither_loses_nor_repeats(tmp_path: Path, data_dir: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    app = logs / "app.log"
    append(app, [line(i) for i in range(100)])
    with serving(data_dir, sources=[tail_source(logs)]) as server:
        wait_parsed(server, 100)
        append(app, [line(i) for i in range(100, 150)])
        wait_parsed(server, 150)
        rows = server.rows('SELECT "log.file.path" AS p FROM events')
        assert {r["p"] for r in rows} == {str(app)}
    # Written while Heron was stopped, including a last line without its newline yet.
    append(app, [line(i) for i in range(150, 200)])
    append(app, [line(200)[:12]], end="")
    state = json.loads((data_dir / "state" / "tail.json").read_text())
    assert next(iter(state["sources"]["tail"].values()))["offset"] == len(
        "".join(line(i) + "\n" for i in range(150)).encode()
    )
    with serving(data_dir, sources=[tail_source(logs)]) as server:
        wait_parsed(server, 50)
        append(app, [line(200)[12:], line(201)])
        wait_parsed(server, 52)
    got = originals(data_dir)
    assert got == sorted([line(i) for i in range(202)])


def test_rename_rotation_and_copytruncate(tmp_path: Path, data_dir: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    app = logs / "app.log"
    append(app, [line(i) for i in range(10)])
    with serving(data_dir, sources=[tail_source(logs, "app.log")]) as server:
        wait_parsed(server, 10)
        # logrotate's default: rename, then the application writes a new file. Lines
        # written to the old file just before the rename are still read.
        append(app, [line(i) for i in range(10, 15)])
        app.rename(logs / "app.log.1")
        append(logs / "app.log.1", [line(15)])
        append(app, [line(i, "new") for i in range(20)])
        wait_parsed(server, 36)
        # copytruncate: the file is copied away and cut to zero, then written again.
        (logs / "copy.log").write_bytes(app.read_bytes())
        os.truncate(app, 0)
        append(app, [line(i, "after") for i in range(5)])
        wait_parsed(server, 41)
    got = originals(data_dir)
    expected = (
        [line(i) for i in range(16)]
        + [line(i, "new") for i in range(20)]
        + [line(i, "after") for i in range(5)]
    )
    assert got == sorted(expected)


def test_bad_lines_are_dead_letters(tmp_path: Path, data_dir: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    app = logs / "app.log"
    app.write_bytes(
        b"\xef\xbb\xbf"
        + line(0).encode()
        + b"\n"
        + b"<13>"
        + b"x" * 5000
        + b"\n"
        + b"<13>Oct 11 22:14:15 host app: \xff bad\n"
        + line(1).encode()
        + b"\n"
    )
    source = tail_source(logs)
    with serving(data_dir, sources=[source], limits={"max_line_bytes": 1024}) as server:
        wait_parsed(server, 2)
        assert server.source_count("tail", "failed") == 2
    assert originals(data_dir) == sorted([line(0), line(1)])
    reasons = sorted(d["reason"] for d in dead_letters(data_dir))
    assert reasons[0].startswith("invalid UTF-8")
    assert reasons[1] == "line longer than the limit of 1024 bytes (5004 bytes)"


W3C_HEADER = [
    "#Software: Microsoft Internet Information Services 10.0",
    "#Version: 1.0",
    "#Date: 2026-11-27 10:00:00",
    "#Fields: date time s-ip cs-method cs-uri-stem sc-status",
]


def w3c(i: int) -> str:
    return f"2026-11-27 10:00:{i:02d} 10.0.0.5 GET /p{i}.aspx 200"


def test_w3c_lines_are_read_through_their_header_across_restarts(
    tmp_path: Path, data_dir: Path
) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    iis = logs / "u_ex261127.log"
    append(iis, [*W3C_HEADER, *(w3c(i) for i in range(5))], end="\r\n")
    with serving(data_dir, sources=[tail_source(logs)]) as server:
        wait_parsed(server, 5)
        assert server.source_count("tail", "failed") == 0
    # The checkpoint keeps the header state with the offset.
    (saved,) = json.loads((data_dir / "state" / "tail.json").read_text())["sources"][
        "tail"
    ].values()
    assert saved["headed"] == {"kind": "iis", "directives": W3C_HEADER}
    # Written while Heron was stopped: more lines, then IIS restarts with other fields.
    restarted = [
        *W3C_HEADER[:3],
        "#Fields: date time cs-method cs-uri-stem sc-status c-ip",
        "2026-11-27 11:00:00 POST /login.aspx 401 203.0.113.9",
    ]
    append(iis, [*(w3c(i) for i in range(5, 8)), *restarted], end="\r\n")
    with serving(data_dir, sources=[tail_source(logs)]) as server:
        wait_parsed(server, 4)
        assert server.source_count("tail", "failed") == 0
    events = {e["url.path"]: e for e in stored_events(data_dir)}
    assert sorted(events) == sorted([*(f"/p{i}.aspx" for i in range(8)), "/login.aspx"])
    assert events["/p6.aspx"]["event.original"] == w3c(6)
    assert events["/p6.aspx"]["http.response.status_code"] == 200
    login = events["/login.aspx"]
    assert login["event.original"] == restarted[-1]
    assert (login["http.response.status_code"], login["source.ip"]) == (401, "203.0.113.9")


def test_zeek_tsv_followed_from_its_end_still_knows_its_columns(
    tmp_path: Path, data_dir: Path
) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    conn = logs / "conn.log"
    old = "1700000000.000000\tCold\t10.0.0.1\t50000\t93.184.216.34\t443\ttcp"
    new = "1700000001.000000\tCnew\t10.0.0.6\t50001\t93.184.216.35\t53\tudp"
    append(conn, [*ZEEK_CONN_HEADER, old])
    source = {**tail_source(logs), "start_at": "end"}
    with serving(data_dir, sources=[source]) as server:
        time.sleep(0.2)  # a few polls: the file is known, at its end
        append(conn, [new])
        wait_parsed(server, 1)
    (event,) = stored_events(data_dir)
    assert event["event.original"] == new
    assert (event["source.ip"], event["destination.port"]) == ("10.0.0.6", 53)
    assert event["event.dataset"] == "zeek.conn"
