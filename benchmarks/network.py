"""Network ingest throughput: TCP syslog and HEC through ``heron serve`` into the store,
beside rsyslog receiving the same TCP stream into a file, in the same run.

Each phase sends N syslog lines as fast as the clients can and times until the last
one is committed (Heron: the source's ``parsed`` counter; rsyslog: the last line in its
output file). Before the first phase, Heron is sent ``WARM_UP_LINES`` other lines and
waits for them: ``heron serve`` starts its worker processes on the first large batch,
and that one-off start (about 1.5 CPU-s here: imports, and each worker's rule set) is not
the sustained rate the phases measure. The figure is Heron's rate over rsyslog's. An
overload phase then drives Heron with ten times the connections of the sustained phases
(TCP and HEC) plus a UDP flood, and reports the server's peak RSS and the UDP drops
counted.

The HEC phase's clients (4, of 1,000 events a request) each wait for their answer
before sending again; the answer comes once the request is synced to the receive log,
and the phase is timed until the last event is committed. ``heron_hec_ack`` sends the
same requests to a second server with indexer acknowledgement on (answered once queued,
``/ack`` polled until every id reads true), as Vector's HEC sink does by default; it is
timed until the last acknowledgement.

Prints one JSON object:
  {"lines", "cores", "heron_tcp": {"events", "seconds", "events_per_s"},
   "heron_hec": {...}, "heron_hec_ack": {...}, "rsyslog_tcp": {...} | null, "ratio_tcp",
   "ratio_hec",
   "rss_mib": {"after_sustained", "peak_overload"}, "overload": {...}, "detect"}

Usage: python benchmarks/network.py [--lines 500000] [--detect] [--skip-rsyslog]
       [--skip-overload] [--skip-hec-ack] [--workers N]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
from ingest import TreeCpu

TOKEN = "bench-token-0123456789abcdef"
HOSTS = [f"srv{i:02d}" for i in range(20)]
USERS = ["root", "admin", "alice", "bob", "deploy", "oracle", "ubuntu", "git"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def make_lines(count: int, seed: int = 7) -> list[bytes]:
    """Realistic RFC 3164 lines: sshd, sudo, cron, kernel firewall."""
    rng = random.Random(seed)
    out: list[bytes] = []
    for i in range(count):
        host, user = rng.choice(HOSTS), rng.choice(USERS)
        ip = ".".join(str(rng.randint(1, 223)) for _ in range(4))
        port = rng.randint(1024, 65535)
        stamp = f"{MONTHS[i % 12]} {1 + i % 28:2d} {i % 24:02d}:{i % 60:02d}:{(i * 7) % 60:02d}"
        kind = i % 4
        sshd = f"sshd[{1000 + i % 30000}]"
        if kind == 0:
            msg = f"{sshd}: Failed password for {user} from {ip} port {port} ssh2"
        elif kind == 1:
            msg = f"{sshd}: Accepted publickey for {user} from {ip} port {port} ssh2"
        elif kind == 2:
            msg = (
                f"sudo[{2000 + i % 9000}]: {user} : TTY=pts/0 ; PWD=/home/{user} ; USER=root ; "
                "COMMAND=/usr/bin/systemctl restart nginx"
            )
        else:
            msg = f"kernel: [UFW BLOCK] IN=eth0 SRC={ip} DST=10.0.0.5 PROTO=TCP SPT={port} DPT=22"
        out.append(f"<38>{stamp} {host} {msg}".encode())
    return out


WARM_UP_LINES = 20_000


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mib(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


class Heron:
    """``heron serve`` in a subprocess with TCP syslog, UDP syslog and HEC."""

    def __init__(
        self, workdir: Path, detect: bool, workers: int | None = None, hec_ack: bool = False
    ) -> None:
        self.http_port, self.tcp_port = free_port(), free_port()
        self.udp_port = free_port(socket.SOCK_DGRAM)
        config = {
            "tokens": [TOKEN],
            "detect": detect,
            "http": {"port": self.http_port},
            "sources": [
                {"type": "syslog", "protocol": "tcp", "port": self.tcp_port, "name": "tcp"},
                {"type": "syslog", "protocol": "udp", "port": self.udp_port, "name": "udp"},
                {"type": "hec", "ack": hec_ack},
            ],
        }
        path = workdir / "heron.json"
        path.write_text(json.dumps(config))  # JSON is YAML
        args = [
            sys.executable,
            "-m",
            "heron.cli",
            "serve",
            "--config",
            str(path),
            "--data-dir",
            str(workdir / "data"),
        ]
        if not detect:
            args.append("--no-detect")
        env = dict(os.environ)
        if workers is not None:
            env["HERON_WORKERS"] = str(workers)
        self.proc = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
        )
        # CPU of the server and its worker processes, read at phase boundaries.
        self.cpu = TreeCpu(self.proc.pid, interval=0.5)
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("heron: serving"):
                break
        else:
            raise RuntimeError("heron serve did not start")
        threading.Thread(target=lambda: [None for _ in self.proc.stdout], daemon=True).start()

    def health(self) -> dict:
        conn = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=30)
        conn.request("GET", "/healthz")
        body = json.loads(conn.getresponse().read())
        conn.close()
        return body

    def wait_parsed(self, source: str, target: int, timeout: float = 900) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            stats = self.health()["sources"][source]
            if stats["parsed"] + stats["failed"] + stats["dropped"] >= target:
                return time.perf_counter()
            time.sleep(0.05)
        raise TimeoutError(f"{source}: not all events arrived")

    def stop(self) -> None:
        self.cpu.stop()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(120)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def send_tcp(port: int, payload: bytes) -> None:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(payload)


def tcp_phase(lines: list[bytes], port: int, connections: int) -> float:
    """Send ``lines`` over ``connections`` parallel TCP streams; returns the start time."""
    parts = [b"".join(line + b"\n" for line in lines[i::connections]) for i in range(connections)]
    started = time.perf_counter()
    threads = [threading.Thread(target=send_tcp, args=(port, p)) for p in parts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return started


def _take(queue: list[bytes], lock: threading.Lock) -> Iterator[bytes]:
    """Request bodies off a list shared by the client threads, until it is empty."""
    while True:
        with lock:
            if not queue:
                return
            body = queue.pop()
        yield body


def hec_ack_phase(port: int, bodies: list[bytes], clients: int) -> tuple[float, float]:
    """POST the bodies with indexer acknowledgement, as Vector's HEC sink does by
    default: each client has a channel, is answered once its events are queued (an
    ``ackId``), and polls ``/services/collector/ack`` until every id reads true (its
    events committed). Returns (start, time the last id was acknowledged)."""
    queue = list(reversed(bodies))
    lock = threading.Lock()
    done: list[float] = []

    def worker(channel: str) -> None:
        headers = {
            "Authorization": f"Splunk {TOKEN}",
            "Content-Type": "application/json",
            "X-Splunk-Request-Channel": channel,
        }
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        pending: set[int] = set()

        def poll() -> None:
            ids = orjson.dumps({"acks": sorted(pending)})
            conn.request("POST", "/services/collector/ack", body=ids, headers=headers)
            acks = orjson.loads(conn.getresponse().read())["acks"]
            pending.difference_update(int(i) for i, ok in acks.items() if ok)

        for body in _take(queue, lock):
            while True:
                conn.request("POST", "/services/collector/event", body=body, headers=headers)
                answer = conn.getresponse()
                reply = answer.read()
                if answer.status == 200:
                    pending.add(int(orjson.loads(reply)["ackId"]))
                    break
                poll()  # 503 busy: settle what is done, back off and resend
                time.sleep(0.05)
        while pending:
            poll()
            if pending:
                time.sleep(0.02)
        conn.close()
        with lock:
            done.append(time.perf_counter())

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(f"bench-{i}",)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return started, max(done)


def hec_bodies(lines: list[bytes], per_request: int) -> list[bytes]:
    bodies = []
    for i in range(0, len(lines), per_request):
        bodies.append(
            b"\n".join(
                orjson.dumps({"event": line.decode(), "sourcetype": "syslog"})
                for line in lines[i : i + per_request]
            )
        )
    return bodies


def hec_phase(port: int, bodies: list[bytes], clients: int, stats: dict | None = None) -> float:
    """POST the bodies from ``clients`` keep-alive connections; returns the start time."""
    queue = list(reversed(bodies))
    lock = threading.Lock()
    headers = {"Authorization": f"Splunk {TOKEN}", "Content-Type": "application/json"}

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        for body in _take(queue, lock):
            while True:
                conn.request("POST", "/services/collector/event", body=body, headers=headers)
                answer = conn.getresponse()
                answer.read()
                if answer.status == 200:
                    break
                if stats is not None:
                    with lock:
                        stats[answer.status] = stats.get(answer.status, 0) + 1
                time.sleep(0.05)  # 503 busy: back off and resend, as HEC clients do
        conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return started


def rsyslog_phase(lines: list[bytes], workdir: Path, connections: int) -> dict | None:
    rsyslogd = shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"
    if not Path(rsyslogd).exists():
        return None
    folder = workdir / "rsyslog"
    (folder / "work").mkdir(parents=True)
    port = free_port()
    out = folder / "out.log"
    conf = folder / "rsyslog.conf"
    conf.write_text(f"""
global(workDirectory="{folder / "work"}")
module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port="{port}")
action(type="omfile" file="{out}" template="RSYSLOG_FileFormat" asyncWriting="on"
       flushOnTXEnd="off" ioBufferSize="256k")
""")
    proc = subprocess.Popen(
        [rsyslogd, "-n", "-f", str(conf), "-i", str(folder / "pid")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        started = tcp_phase(lines, port, connections)
        deadline = time.monotonic() + 900
        count = 0
        while time.monotonic() < deadline:
            if out.exists():
                with out.open("rb") as f:
                    count = sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
            if count >= len(lines):
                break
            time.sleep(0.05)
        seconds = time.perf_counter() - started
        return {
            "events": count,
            "seconds": round(seconds, 3),
            "events_per_s": round(count / seconds),
        }
    finally:
        proc.terminate()
        proc.wait(30)


def overload_phase(heron: Heron, lines: list[bytes], connections: int, clients: int) -> dict:
    """Ten times the connections, all at once, plus a UDP flood; peak RSS is the figure."""
    before = heron.health()["sources"]
    peak = [0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss_mib(heron.proc.pid))
            time.sleep(0.05)

    def udp_flood() -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            for line in lines:
                sock.sendto(line, ("127.0.0.1", heron.udp_port))

    sampler = threading.Thread(target=sample)
    sampler.start()
    statuses: dict[int, int] = {}
    started = time.perf_counter()
    jobs = [
        threading.Thread(target=tcp_phase, args=(lines, heron.tcp_port, connections)),
        threading.Thread(
            target=hec_phase, args=(heron.http_port, hec_bodies(lines, 500), clients, statuses)
        ),
        threading.Thread(target=udp_flood),
    ]
    for job in jobs:
        job.start()
    for job in jobs:
        job.join()
    heron.wait_parsed("tcp", before["tcp"]["parsed"] + len(lines))
    heron.wait_parsed("hec", before["hec"]["parsed"] + len(lines))
    time.sleep(1)
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    after = heron.health()["sources"]
    udp = {k: after["udp"][k] - before["udp"][k] for k in ("received", "parsed", "dropped")}
    metrics = http.client.HTTPConnection("127.0.0.1", heron.http_port, timeout=30)
    metrics.request("GET", "/metrics")
    text = metrics.getresponse().read().decode()
    kernel = sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("heron_source_kernel_dropped_total")
    )
    return {
        "tcp_connections": connections,
        "hec_clients": clients,
        "seconds": round(seconds, 1),
        "events": 2 * len(lines),
        "hec_busy_answers": statuses.get(503, 0),
        "udp_sent": len(lines),
        "udp": udp,
        "udp_kernel_dropped": int(kernel),
        "peak_rss_mib": round(peak[0], 1),
    }


def hec_ack_run(
    workdir: Path, lines: list[bytes], detect: bool, workers: int | None, batch: int, clients: int
) -> dict:
    """The HEC phase again, on a server with indexer acknowledgement turned on."""
    workdir.mkdir()
    heron = Heron(workdir, detect, workers, hec_ack=True)
    try:
        time.sleep(1)
        tcp_phase(make_lines(WARM_UP_LINES, seed=99), heron.tcp_port, 2)
        heron.wait_parsed("tcp", WARM_UP_LINES)
        bodies = hec_bodies(lines, batch)
        cpu_before = heron.cpu.total()
        started, acknowledged = hec_ack_phase(heron.http_port, bodies, clients)
        heron.wait_parsed("hec", len(lines))
        seconds = acknowledged - started
        cpu = heron.cpu.total() - cpu_before
        return {
            "events": len(lines),
            "seconds": round(seconds, 3),
            "events_per_s": round(len(lines) / seconds),
            "cpu_s_per_100k_events": round(cpu * 100_000 / len(lines), 2),
        }
    finally:
        heron.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=500_000)
    parser.add_argument("--connections", type=int, default=2)
    parser.add_argument("--hec-clients", type=int, default=4)
    parser.add_argument("--hec-batch", type=int, default=1000)
    parser.add_argument("--detect", action="store_true", help="Run detection (built-in rules).")
    parser.add_argument("--skip-rsyslog", action="store_true")
    parser.add_argument("--skip-overload", action="store_true")
    parser.add_argument("--skip-hec-ack", action="store_true", help="No HEC phase with acks.")
    parser.add_argument("--workers", type=int, default=None, help="HERON_WORKERS for serve")
    args = parser.parse_args()

    lines = make_lines(args.lines)
    result: dict = {
        "lines": args.lines,
        "cores": os.cpu_count(),
        "detect": args.detect,
        "warm_up_lines": WARM_UP_LINES,
    }
    with tempfile.TemporaryDirectory(prefix="heron-bench-") as tmp:
        workdir = Path(tmp)
        if not args.skip_rsyslog:
            result["rsyslog_tcp"] = rsyslog_phase(lines, workdir, args.connections)
        heron = Heron(workdir, args.detect, args.workers)
        try:
            time.sleep(1)  # let the pipeline finish loading parsers
            # Other lines than the measured ones, so that no value memo is warmed for them.
            tcp_phase(make_lines(WARM_UP_LINES, seed=99), heron.tcp_port, args.connections)
            heron.wait_parsed("tcp", WARM_UP_LINES)
            cpu_before = heron.cpu.total()
            started = tcp_phase(lines, heron.tcp_port, args.connections)
            ended = heron.wait_parsed("tcp", WARM_UP_LINES + len(lines))
            seconds = ended - started
            cpu = heron.cpu.total() - cpu_before
            result["heron_tcp"] = {
                "events": len(lines),
                "seconds": round(seconds, 3),
                "events_per_s": round(len(lines) / seconds),
                "cpu_s_per_100k_events": round(cpu * 100_000 / len(lines), 2),
            }
            bodies = hec_bodies(lines, args.hec_batch)
            cpu_before = heron.cpu.total()
            started = hec_phase(heron.http_port, bodies, args.hec_clients)
            ended = heron.wait_parsed("hec", len(lines))
            seconds = ended - started
            cpu = heron.cpu.total() - cpu_before
            result["heron_hec"] = {
                "events": len(lines),
                "seconds": round(seconds, 3),
                "events_per_s": round(len(lines) / seconds),
                "cpu_s_per_100k_events": round(cpu * 100_000 / len(lines), 2),
            }
            health = heron.health()["sources"]
            result["failed"] = {k: health[k]["failed"] for k in ("tcp", "hec")}
            result["rss_mib"] = {"after_sustained": round(rss_mib(heron.proc.pid), 1)}
            if not args.skip_overload:
                result["overload"] = overload_phase(
                    heron, lines, 10 * args.connections, 10 * args.hec_clients
                )
                result["rss_mib"]["peak_overload"] = result["overload"]["peak_rss_mib"]
        finally:
            heron.stop()
        if not args.skip_hec_ack:
            result["heron_hec_ack"] = hec_ack_run(
                workdir / "ack", lines, args.detect, args.workers, args.hec_batch, args.hec_clients
            )
    rsyslog = result.get("rsyslog_tcp")
    if rsyslog:
        for key in ("tcp", "hec"):
            result[f"ratio_{key}"] = round(
                result[f"heron_{key}"]["events_per_s"] / rsyslog["events_per_s"], 3
            )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
