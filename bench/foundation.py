#!/usr/bin/env python3
"""Foundation benchmark: 1 GiB upload and download through the generic format, side by side
with `dd conv=fsync` on the same disk and with nginx serving the same file, plus Wharf's
start-up time and resident memory. Prints a Markdown table for bench/RESULTS.md.

Usage: python3 bench/foundation.py [--size-mib 1024] [--workdir DIR]
Needs: a release build (cargo build --release), curl, nginx (installed with apt when missing).
"""

import argparse
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WHARF = os.path.join(ROOT, "target", "release", "wharf")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not found")


def timed(cmd, **kw):
    start = time.perf_counter()
    subprocess.run(cmd, check=True, **kw)
    return time.perf_counter() - start


def start_wharf(data, port):
    """Starts wharf; returns (process, seconds until /readyz answered)."""
    env = dict(os.environ, RUST_LOG="warn")
    start = time.perf_counter()
    proc = subprocess.Popen(
        [WHARF, "--data-dir", data, "serve", "--listen", f"127.0.0.1:{port}"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/readyz")
            if conn.getresponse().status == 200:
                return proc, time.perf_counter() - start
        except OSError:
            pass
        if time.perf_counter() - start > 20:
            proc.kill()
            raise RuntimeError("wharf did not start")
        time.sleep(0.002)


def admin_token(data):
    subprocess.run([WHARF, "--data-dir", data, "user", "create", "bench", "--role", "admin"],
                   input=b"bench-password", check=True, capture_output=True)
    out = subprocess.run([WHARF, "--data-dir", data, "token", "create", "--user", "bench",
                          "--scope", "admin"], check=True, capture_output=True)
    return out.stdout.decode().strip()


def start_nginx(root, port, workdir):
    if shutil.which("nginx") is None:
        subprocess.run(["apt-get", "install", "-y", "-qq", "nginx"], check=True)
    conf = os.path.join(workdir, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""
worker_processes 1;
daemon off;
pid {workdir}/nginx.pid;
error_log {workdir}/nginx-error.log;
events {{ worker_connections 64; }}
http {{
  access_log off;
  sendfile on;
  server {{ listen 127.0.0.1:{port}; root {root}; }}
}}
""")
    proc = subprocess.Popen(["nginx", "-c", conf], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return proc
        except OSError:
            time.sleep(0.02)
    raise RuntimeError("nginx did not start")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--workdir", default=os.path.join(ROOT, "target", "bench"))
    args = parser.parse_args()
    if not os.path.exists(WHARF):
        sys.exit("build first: cargo build --release")
    os.makedirs(args.workdir, exist_ok=True)
    work = tempfile.mkdtemp(dir=args.workdir)
    os.chmod(work, 0o755)
    size = args.size_mib << 20
    src = os.path.join(work, "payload.bin")
    with open(src, "wb") as f:
        chunk = os.urandom(1 << 20)
        for i in range(args.size_mib):
            f.write(chunk[i % 251:] + chunk[: i % 251])
    results = {}

    dd_out = os.path.join(work, "dd.out")
    secs = timed(["dd", f"if={src}", f"of={dd_out}", "bs=1M", "conv=fsync", "status=none"])
    results["dd conv=fsync write"] = size / secs
    os.remove(dd_out)

    data = os.path.join(work, "wharf-data")
    port = free_port()
    proc, ready = start_wharf(data, port)
    proc.terminate()
    proc.wait()
    token = admin_token(data)
    proc, ready = start_wharf(data, port)
    time.sleep(2)
    idle_kib = status_kib(proc.pid, "VmRSS")
    url = f"http://127.0.0.1:{port}/generic/main/bench/1/payload.bin"

    secs = timed(["curl", "-sS", "-o", "/dev/null", "-f", "-H", f"Authorization: Bearer {token}",
                  "-T", src, url])
    results["wharf PUT /generic"] = size / secs
    secs = timed(["curl", "-sS", "-o", "/dev/null", "-f", url])
    results["wharf GET /generic"] = size / secs
    peak_kib = status_kib(proc.pid, "VmHWM")

    nginx_port = free_port()
    nginx = start_nginx(work, nginx_port, work)
    timed(["curl", "-sS", "-o", "/dev/null", f"http://127.0.0.1:{nginx_port}/payload.bin"])
    secs = timed(["curl", "-sS", "-o", "/dev/null", "-f",
                  f"http://127.0.0.1:{nginx_port}/payload.bin"])
    results["nginx GET"] = size / secs
    nginx.terminate()
    nginx.wait()
    proc.terminate()
    proc.wait()

    mib = lambda b: b / (1 << 20)
    up = results["wharf PUT /generic"] / results["dd conv=fsync write"]
    down = results["wharf GET /generic"] / results["nginx GET"]
    print(f"| measure | value | target |")
    print(f"|---|---|---|")
    print(f"| dd conv=fsync, {args.size_mib} MiB | {mib(results['dd conv=fsync write']):.0f} MiB/s | |")
    print(f"| Wharf PUT, {args.size_mib} MiB | {mib(results['wharf PUT /generic']):.0f} MiB/s ({up:.2f}x dd) | >= 0.8x dd |")
    print(f"| nginx GET, {args.size_mib} MiB | {mib(results['nginx GET']):.0f} MiB/s | |")
    print(f"| Wharf GET, {args.size_mib} MiB | {mib(results['wharf GET /generic']):.0f} MiB/s ({down:.2f}x nginx) | >= 0.8x nginx |")
    print(f"| Wharf peak RSS during both | {peak_kib / 1024:.1f} MiB | < 64 MiB |")
    print(f"| Wharf idle RSS | {idle_kib / 1024:.1f} MiB | < 30 MiB |")
    print(f"| `serve` ready (spawn to /readyz 200) | {ready * 1000:.0f} ms | < 300 ms |")
    print(json.dumps({"upload_vs_dd": up, "download_vs_nginx": down, "peak_rss_mib": peak_kib / 1024,
                      "idle_rss_mib": idle_kib / 1024, "ready_ms": ready * 1000}), file=sys.stderr)
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
