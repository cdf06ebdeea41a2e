"""HTTP load: the app under gunicorn on a loopback port, driven by wrk from a separate process.

Used by scripts/bench.py. Every route is driven the same way (same wrk options, same Lua script cycling through a
list of paths), so that the ratio of each route's requests per second to the unauthenticated no-op of the same run
says how much of the work is the endpoint's own. Client and server share this machine's cores: the figures are
for comparison with each other, not a capacity estimate.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench_wsgi import NOOP

SCRIPTS = Path(__file__).resolve().parent
ROOT = SCRIPTS.parent
WRK_SCRIPT = SCRIPTS / "bench_wrk.lua"

# gthread, 2 workers x 4 threads. Measured here (2 cores shared with other jobs, wrk -t2 -c8, demo county,
# 4 interleaved rounds, median req/s, sync -> gthread): SpatiaLite no-op 1,160 -> 2,630, token-checked no-op
# 360 -> 630, locate 130 -> 290, 100-cell GeoJSON page 90 -> 150; PostGIS no-op 2,610 -> 3,960, token-checked no-op
# 550 -> 920, locate 300 -> 360, 100-cell page 230 -> 220. A sync worker serves one connection at a time and closes
# it after every answer (no keep-alive): each request also pays a new TCP connection, and 6 of the 8 connections
# wait in the backlog. gthread keeps connections open and overlaps one thread's wait on PostgreSQL with another's
# Python. `--worker-class sync` measures the other.
WORKER_CLASS, WORKERS, THREADS = "gthread", 2, 4


@dataclass(frozen=True)
class Route:
    label: str
    paths: list[str]
    token: bool  # send the bearer token


@dataclass(frozen=True)
class WrkResult:
    label: str
    varied: int  # how many different paths the route cycled through
    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    status_errors: int  # answers with a status >= 400 (wrk counts those; these routes answer no 3xx)
    socket_errors: int
    check: str  # the one status of the pre-check, "200" when every path answered 200

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_get(url: str, token: str | None = None, timeout: float = 30) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def log_in(base: str, username: str, password: str) -> str:
    body = json.dumps({"username": username, "password": password}).encode()
    request = urllib.request.Request(
        f"{base}/api/v1/auth/token", data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["access_token"]


@contextmanager
def gunicorn(
    database_url: str,
    workdir: Path,
    *,
    worker_class: str = WORKER_CLASS,
    workers: int = WORKERS,
    threads: int = THREADS,
) -> Iterator[str]:
    """Serve scripts/bench_wsgi.py on a free loopback port; yield its base URL; always stop it afterwards."""
    port = free_port()
    log = workdir / f"gunicorn-{port}.log"
    command = [
        sys.executable, "-m", "gunicorn",
        "--workers", str(workers), "--worker-class", worker_class, "--threads", str(threads),
        "--bind", f"127.0.0.1:{port}", "--pythonpath", f"{SCRIPTS},{ROOT}",
        "--no-control-socket", "--log-level", "warning", "--timeout", "120",
        "bench_wsgi:make_application()",
    ]  # fmt: skip
    env = os.environ | {"BENCH_DATABASE_URL": database_url}
    with log.open("wb") as out:
        # Its own session (process group), so that stopping it reaches the master and its workers and nothing else.
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{log.read_text()[-3000:]}")
            try:
                if http_get(base + NOOP, timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer within 60 s:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield base
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)  # graceful: the master stops its workers
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


_BENCH_LINE = re.compile(r"^BENCH (.*)$", re.MULTILINE)


def wrk(
    base: str,
    route: Route,
    token: str,
    workdir: Path,
    *,
    duration: int,
    connections: int,
    threads: int,
    check: str = "200",
) -> WrkResult:
    paths_file = workdir / "paths.txt"
    paths_file.write_text("\n".join(route.paths) + "\n")
    command = [
        "wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "10s",
        "-s", str(WRK_SCRIPT), base, "--", str(paths_file), token if route.token else "",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60)
    found = _BENCH_LINE.search(done.stdout)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout}\n{done.stderr}")
    v = {key: int(value) for key, value in (pair.split("=") for pair in found.group(1).split())}
    return WrkResult(
        label=route.label,
        varied=len(set(route.paths)),
        requests=v["requests"],
        seconds=v["duration_us"] / 1e6,
        p50_ms=v["p50_us"] / 1000,
        p95_ms=v["p95_us"] / 1000,
        p99_ms=v["p99_us"] / 1000,
        max_ms=v["max_us"] / 1000,
        status_errors=v["status_errors"],
        socket_errors=v["connect"] + v["read"] + v["write"] + v["timeout"],
        check=check,
    )


def drain(result: WrkResult) -> None:
    """Wait until the requests wrk left in flight when it stopped are done. Otherwise the next run starts while one
    worker still serves them, the kernel hands that run's keep-alive connections to the idle worker, and one process
    (one GIL) serves a whole run: measured, a no-op run after the 1,000-feature page at half its req/s."""
    time.sleep(min(10.0, 0.2 + 2 * result.max_ms / 1000))


def precheck(base: str, route: Route, token: str) -> str:
    """One plain request per distinct path (urllib): "200" when all answered 200, else the first other status."""
    for path in dict.fromkeys(route.paths):
        status, body = http_get(base + path, token if route.token else None)
        if status != 200:
            return f"{status} at {path}: {body[:200].decode(errors='replace')}"
    return "200"


def require_wrk() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise RuntimeError("wrk not found: `make bench` installs it (scripts/install-bench-deps.sh)")
    banner = subprocess.run([found, "-v"], capture_output=True, text=True).stdout.split()
    return " ".join(banner[:2])  # "wrk 4.1.0" (Debian: "wrk debian/4.1.0-3+b2")


def run(
    database_url: str,
    routes: list[Route],
    *,
    username: str,
    password: str,
    workdir: Path,
    duration: int = 10,
    connections: int = 8,
    threads: int = 2,
    worker_class: str = WORKER_CLASS,
    warmup: int = 3,
    log: Callable[[str], None] = print,
) -> list[WrkResult]:
    """Start gunicorn, log in over HTTP, check every path once, then drive each route with wrk in turn."""
    results = []
    with gunicorn(database_url, workdir, worker_class=worker_class) as base:
        token = log_in(base, username, password)
        checks = {route.label: precheck(base, route, token) for route in routes}
        for label, status in checks.items():
            if status != "200":
                log(f"  ! {label}: {status}")
        # Warm both workers (imports, connection pools, the database's caches) on a mix of every route.
        mix = Route("warm-up", [p for r in routes if r.token for p in r.paths[:50]], token=True)
        drain(wrk(base, mix, token, workdir, duration=warmup, connections=connections, threads=threads))
        # the first route (the reference: the no-op) once more at the end, for a busy moment at either end
        again = Route(f"{routes[0].label} (again, last)", routes[0].paths, token=routes[0].token)
        checks[again.label] = checks[routes[0].label]
        for route in [*routes, again]:
            result = wrk(
                base,
                route,
                token,
                workdir,
                duration=duration,
                connections=connections,
                threads=threads,
                check=checks[route.label],
            )
            drain(result)
            log(
                f"  {route.label:<44} {result.rps:8.0f} req/s   p50 {result.p50_ms:6.2f} ms   "
                f"p99 {result.p99_ms:6.2f} ms   errors {result.status_errors + result.socket_errors}"
            )
            results.append(result)
    return results
