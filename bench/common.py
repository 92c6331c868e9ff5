"""What the benchmark harnesses share: progress lines, free ports, waiting for a server to
listen, starting a release Wharf with an admin token, and wrk runs with the server pinned to
core 0 and the load generator to core 1."""

import os
import re
import shutil
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WHARF = os.path.join(ROOT, "target", "release", "wharf")


def progress(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def wrk(url, pid, seconds, headers=()):
    """Loads `url` with 16 connections for `seconds` (server `pid` on core 0, wrk on core 1) and
    returns (requests/s, p50 ms, p99 ms, wrk's report). Any non-2xx answer fails the run."""
    if shutil.which("wrk") is None:
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    subprocess.run(["taskset", "-apc", "0", str(pid)], check=True, capture_output=True)
    flags = [arg for h in headers for arg in ("-H", h)]
    out = subprocess.run(["taskset", "-c", "1", "wrk", "-t1", "-c16", f"-d{seconds}s", "--latency",
                          *flags, url], check=True, capture_output=True, text=True).stdout
    if "Non-2xx" in out:
        raise SystemExit(f"{url} answered errors under load:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def pct(p):
        m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    return rps, pct(50), pct(99), out


def start_wharf(work, name="wharf", env=None):
    """Starts the release Wharf on a free port with its data under `work/name` and `env` added
    to its environment; returns the process, the port and an admin token."""
    data = os.path.join(work, name)
    port = free_port()
    proc = subprocess.Popen([WHARF, "--data-dir", data, "serve", "--listen", f"127.0.0.1:{port}"],
                            env=dict(os.environ, RUST_LOG="warn", **(env or {})),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port)
    subprocess.run([WHARF, "--data-dir", data, "user", "create", "bench", "--role", "admin"],
                   input=b"bench-password", check=True, capture_output=True)
    token = subprocess.run([WHARF, "--data-dir", data, "token", "create", "--user", "bench",
                            "--scope", "admin"], check=True, capture_output=True).stdout.decode().strip()
    return proc, port, token
