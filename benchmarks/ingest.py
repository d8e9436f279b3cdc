"""Ingest throughput: `heron ingest` end to end on a generated mixed corpus, and on EVTX.

Prints one JSON object:
  {"mixed": {"lines", "files", "events", "failed", "seconds", "events_per_s",
             "peak_rss_mib", "cpu_seconds", "cpu_s_per_100k_events", "correlation_late"},
   "evtx": {"records", "events", "seconds", "records_per_s", "peak_rss_mib"} | null,
   "evtx_sustained": {... the same, "repeats"} | null}

``evtx`` is one pass over EVTX-ATTACK-SAMPLES (8,255 records in 277 files): at this size
the one-time costs of a run (rule indexes, first imports, the final commit) weigh as
much as the records. ``evtx_sustained`` reads the same files ``--evtx-repeat`` times
(through symbolic links in a temporary folder), which is the rate of a large EVTX load
(and large enough that ``heron ingest`` uses its worker processes).

``--files N`` writes the mixed corpus as N files that each span the whole period, read
one after another; ``correlation_late`` then shows whether correlation saw them in
event time (0) or dropped matches that arrived behind it.

Usage: python benchmarks/ingest.py [--lines 1000000] [--out bench-out/ingest]
                                   [--workers N] [--no-evtx] [--evtx-repeat 12] [--files 1]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from childenv import child_env

ROOT = Path(__file__).resolve().parents[1]
EVTX_DIR = ROOT.parent / "shared" / "corpora" / "evtx" / "EVTX-ATTACK-SAMPLES"

_USERS = [
    "root",
    "admin",
    "alice",
    "bob",
    "deploy",
    "oracle",
    "test",
    "ubuntu",
    "git",
    "svc_backup",
]
_HOSTS = [f"srv{i:02d}" for i in range(20)]
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
_EVENT_NAMES = [
    "GetObject",
    "PutObject",
    "AssumeRole",
    "DescribeInstances",
    "ConsoleLogin",
    "CreateUser",
    "AttachUserPolicy",
    "ListBuckets",
]


def _ip(rng: random.Random) -> str:
    return (
        f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    )


def _sshd(rng: random.Random, i: int) -> str:
    user, host = rng.choice(_USERS), rng.choice(_HOSTS)
    stamp = f"{_MONTHS[i % 12]} {1 + i % 28:2d} {i % 24:02d}:{i % 60:02d}:{(i * 7) % 60:02d}"
    pid = 1000 + i % 30000
    # i is a multiple of 4 here (every fourth line is sshd): i // 4 varies the kind.
    kind = (i // 4) % 4
    if kind == 0:
        msg = f"Failed password for {user} from {_ip(rng)} port {rng.randint(1024, 65535)} ssh2"
    elif kind == 1:
        msg = (
            f"Failed password for invalid user {user}{i % 97} from {_ip(rng)} "
            f"port {rng.randint(1024, 65535)} ssh2"
        )
    elif kind == 2:
        msg = (
            f"Accepted publickey for {user} from {_ip(rng)} port {rng.randint(1024, 65535)} "
            f"ssh2: RSA SHA256:{'x' * 43}"
        )
    else:
        msg = f"pam_unix(sshd:session): session opened for user {user}(uid=1000) by (uid=0)"
    return f"{stamp} {host} sshd[{pid}]: {msg}"


def _rfc5424(rng: random.Random, i: int) -> str:
    return (
        f"<{rng.randint(0, 191)}>1 2026-11-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:"
        f"{(i * 3) % 60:02d}.{i % 1000000:06d}Z {rng.choice(_HOSTS)} app{i % 5} {i % 9000} "
        f'ID{i % 50} [exampleSDID@32473 iut="{i % 9}" eventSource="Application"] '
        f"user {rng.choice(_USERS)} did action {i} on resource /data/{i % 1000}"
    )


def _cef(rng: random.Random, i: int) -> str:
    return (
        f"CEF:0|Vendor{i % 3}|Firewall|1.{i % 9}|{100 + i % 40}|Connection "
        f"{'blocked' if i % 2 else 'allowed'}|{i % 11}|src={_ip(rng)} dst={_ip(rng)} "
        f"spt={rng.randint(1024, 65535)} dpt={rng.choice([22, 80, 443, 3389])} proto=TCP "
        f"suser={rng.choice(_USERS)} act={'deny' if i % 2 else 'allow'} "
        f"msg=policy rule {i % 77} matched rt={1764300000000 + i}"
    )


def _cloudtrail(rng: random.Random, i: int) -> str:
    record = {
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": f"AIDA{i % 1000:016d}",
            "arn": f"arn:aws:iam::123456789012:user/{rng.choice(_USERS)}",
            "accountId": "123456789012",
            "accessKeyId": f"AKIA{i % 10000:016d}",
            "userName": rng.choice(_USERS),
        },
        "eventTime": f"2026-11-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:{(i * 5) % 60:02d}Z",
        "eventSource": "s3.amazonaws.com",
        "eventName": rng.choice(_EVENT_NAMES),
        "awsRegion": "eu-west-1",
        "sourceIPAddress": _ip(rng),
        "userAgent": "aws-cli/2.13.0 Python/3.11.4 Linux/6.1 exe/x86_64 prompt/off command/s3.cp",
        "requestParameters": {
            "bucketName": f"bucket-{i % 50}",
            "key": f"reports/{i}/data.csv",
            "Host": f"bucket-{i % 50}.s3.eu-west-1.amazonaws.com",
        },
        "responseElements": None,
        "requestID": f"{i:016X}",
        "eventID": f"{rng.getrandbits(128):032x}",
        "readOnly": True,
        "eventType": "AwsApiCall",
        "managementEvent": False,
        "recipientAccountId": "123456789012",
        "eventCategory": "Data",
        "tlsDetails": {
            "tlsVersion": "TLSv1.3",
            "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": "s3.eu-west-1.amazonaws.com",
        },
    }
    return json.dumps(record, separators=(",", ":"))


def generate(path: Path, lines: int, seed: int = 7) -> None:
    """Write ``lines`` mixed lines (sshd, RFC 5424, CEF, CloudTrail JSON), interleaved."""
    rng = random.Random(seed)
    makers = [_sshd, _rfc5424, _cef, _cloudtrail]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for i in range(lines):
            f.write(makers[i % 4](rng, i))
            f.write("\n")


_TICKS = os.sysconf("SC_CLK_TCK")


def _proc_table() -> dict[int, tuple[int, float]]:
    """pid → (parent pid, CPU seconds so far) for every process visible in /proc."""
    table: dict[int, tuple[int, float]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        table[int(entry)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICKS)
    return table


class TreeCpu:
    """CPU seconds of a process and all its descendants (worker pools, forkservers).

    ``wait4`` only counts children that were reaped by their parent, and a forkserver's
    workers are not, so the tree is sampled from /proc while it runs; each process
    counts with the last value seen (a process's final fraction of a second may be missed).
    """

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self.pid = pid
        self.interval = interval
        self._seen: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def sample(self) -> None:
        table = _proc_table()
        tree = {self.pid}
        grew = True
        while grew:
            grew = False
            for pid, (ppid, _) in table.items():
                if ppid in tree and pid not in tree:
                    tree.add(pid)
                    grew = True
        for pid in tree:
            if pid in table:
                self._seen[pid] = max(self._seen.get(pid, 0.0), table[pid][1])

    def total(self) -> float:
        """CPU seconds of the tree so far (sampled now)."""
        self.sample()
        return sum(self._seen.values())

    def stop(self) -> float:
        """Stop sampling; the CPU seconds of the whole tree."""
        self._stop.set()
        self._thread.join()
        return round(sum(self._seen.values()), 2)


def run_ingest(data_dir: Path, paths: list[Path], extra: list[str]) -> dict[str, object]:
    if data_dir.exists():
        shutil.rmtree(data_dir)
    heron = shutil.which("heron", path=str(Path(sys.executable).parent)) or "heron"
    cmd = [heron, "ingest", "--json", "--data-dir", str(data_dir), *extra, *map(str, paths)]
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True, env=child_env())
        cpu = TreeCpu(proc.pid)
        # wait4 gives this child's own peak RSS (RUSAGE_CHILDREN would mix runs).
        _, status, usage = os.wait4(proc.pid, 0)
        cpu_seconds = cpu.stop()
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"ingest failed ({code}): {stderr[-2000:]}")
    summary = json.loads(stdout.strip().splitlines()[-1])
    peak_kib = usage.ru_maxrss
    # The parent's own CPU is exact from wait4; the tree's adds its workers.
    own = usage.ru_utime + usage.ru_stime
    cpu_seconds = max(cpu_seconds, round(own, 2))
    events = int(summary["events"]) or 1
    return {
        **summary,
        "wall_seconds": round(wall, 3),
        "peak_rss_mib": round(peak_kib / 1024, 1),
        "cpu_seconds": cpu_seconds,
        "cpu_s_per_100k_events": round(cpu_seconds * 100_000 / events, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench-out" / "ingest")
    parser.add_argument("--no-detect", action="store_true", help="ingest without detection")
    parser.add_argument("--workers", type=int, default=None, help="heron ingest --workers")
    parser.add_argument("--no-evtx", action="store_true", help="only the mixed corpus")
    parser.add_argument(
        "--evtx-repeat", type=int, default=12, help="passes over the EVTX files (sustained rate)"
    )
    parser.add_argument(
        "--files",
        type=int,
        default=1,
        help="split the mixed corpus into N files that each span the whole period",
    )
    args = parser.parse_args()
    extra = ["--no-detect"] if args.no_detect else []
    if args.workers is not None:
        extra += ["--workers", str(args.workers)]

    # v2: the sshd lines vary (v1 made every one a failed password, by a modulo slip).
    corpus: list[Path] = []
    for k in range(args.files):
        part = "" if args.files == 1 else f"-{k + 1}of{args.files}"
        path = args.out / f"mixed-v2-{args.lines}{part}.log"
        if not path.exists():
            # Each file covers the same period (its own seed): a load of files from
            # several hosts, which correlation must see in event time, not file order.
            generate(path, args.lines // args.files, seed=7 + k)
        corpus.append(path)
    mixed = run_ingest(args.out / "data-mixed", corpus, extra)
    mixed["lines"] = args.lines
    mixed["files"] = args.files
    mixed["correlation_late"] = correlation_late(args.out / "data-mixed")
    mixed["events_per_s"] = round(int(mixed["events"]) / float(mixed["seconds"]), 1)  # type: ignore[arg-type]

    evtx: dict[str, object] | None = None
    if EVTX_DIR.is_dir() and not args.no_evtx:
        evtx = run_ingest(args.out / "data-evtx", [EVTX_DIR], [*extra, "--include", "*.evtx"])
        evtx["records_per_s"] = round(int(evtx["events"]) / float(evtx["seconds"]), 1)  # type: ignore[arg-type]
    sustained: dict[str, object] | None = None
    if EVTX_DIR.is_dir() and not args.no_evtx and args.evtx_repeat > 1:
        with tempfile.TemporaryDirectory(prefix="heron-evtx-repeat-") as tmp:
            folder = _repeated(EVTX_DIR, Path(tmp), args.evtx_repeat)
            sustained = run_ingest(args.out / "data-evtx-sustained", [folder], extra)
        sustained["repeats"] = args.evtx_repeat
        sustained["records_per_s"] = round(
            int(sustained["events"]) / float(sustained["seconds"]),  # type: ignore[arg-type]
            1,
        )
    print(
        json.dumps(
            {
                "mixed": mixed,
                "evtx": evtx,
                "evtx_sustained": sustained,
                "cpus": os.cpu_count(),
                "detect": not args.no_detect,
            }
        )
    )


def correlation_late(data_dir: Path) -> int | None:
    """Matches the load's correlation counted as late (from its saved state)."""
    path = data_dir / "state" / "correlation.sqlite"
    if not path.exists():
        return None
    with sqlite3.connect(path) as db:
        row = db.execute("SELECT value FROM meta WHERE key = 'late'").fetchone()
    return sum(json.loads(row[0]).values()) if row else 0


def _repeated(source: Path, into: Path, times: int) -> Path:
    """A folder that holds every .evtx file of ``source`` ``times`` over (symbolic links)."""
    for n in range(times):
        copy = into / f"pass-{n:02d}"
        copy.mkdir()
        for path in sorted(source.rglob("*.evtx")):
            (copy / f"{path.parent.name}-{path.name}").symlink_to(path.resolve())
    return into


if __name__ == "__main__":
    main()
