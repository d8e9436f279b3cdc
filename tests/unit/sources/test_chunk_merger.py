"""Small files' chunks joined into one keep each record's file and original text."""

from __future__ import annotations

from pathlib import Path

from heron.parsers.base import ParseContext
from heron.pipeline import transform
from heron.sources.file import read_file
from heron.sources.merge import ChunkMerger

HEADER = (
    "#Software: Microsoft Internet Information Services 10.0\n"
    "#Fields: date time cs-method cs-uri-stem sc-status\n"
)


def test_joined_chunks_keep_each_lines_file_and_original(tmp_path: Path) -> None:
    lines = {
        tmp_path / "u_ex1.log": ["2026-11-27 10:00:01 GET /a.aspx 200"],
        tmp_path / "u_ex2.log": [
            "2026-11-27 10:00:02 POST /b.aspx 500",
            "2026-11-27 10:00:03 GET / 404",
        ],
    }
    for path, data in lines.items():
        path.write_text(HEADER + "\n".join(data) + "\n")
    merger = ChunkMerger()
    chunks = [c for path in lines for c in merger.add_all(read_file(path))]
    chunks += list(merger.flush())
    assert len(chunks) == 1 and chunks[0].format == "iis"
    result = transform(chunks[0], ParseContext())
    got = [(e["log.file.path"], e["event.original"], e["url.path"]) for e in result.events]
    assert got == [
        (str(tmp_path / "u_ex1.log"), lines[tmp_path / "u_ex1.log"][0], "/a.aspx"),
        (str(tmp_path / "u_ex2.log"), lines[tmp_path / "u_ex2.log"][0], "/b.aspx"),
        (str(tmp_path / "u_ex2.log"), lines[tmp_path / "u_ex2.log"][1], "/"),
    ]
