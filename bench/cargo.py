#!/usr/bin/env python3
"""Cargo benchmark (issue 7): the sparse-index file of a crate with 1,000 versions under load
(16 connections, server pinned to core 0, wrk on core 1), Wharf and Kellnr side by side in one
run, and the cost of a publish with 10 versus 1,000 existing versions.

Usage: python3 bench/cargo.py [--versions 1000] [--kellnr PATH] [--seconds 10]
Needs: a release build of Wharf, wrk (installed with apt when missing), and a Kellnr binary
(built from its crate as ../shared/reference/clients-and-peers.md describes) unless
--no-kellnr is given. Prints a Markdown table for bench/RESULTS.md.
"""

import argparse
import gzip
import http.client
import http.cookiejar
import io
import json
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import WHARF, free_port, progress, start_wharf, wait_port, wrk  # noqa: E402

CRATE = "benchcrate"


def crate_bytes(version):
    manifest = f'[package]\nname = "{CRATE}"\nversion = "{version}"\nedition = "2021"\n'.encode()
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as gz:
        with tarfile.open(fileobj=gz, mode="w") as tar:
            for path, data in [("Cargo.toml", manifest), ("src/lib.rs", b"pub fn f() {}\n")]:
                info = tarfile.TarInfo(f"{CRATE}-{version}/{path}")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def publish_body(version):
    meta = json.dumps({
        "name": CRATE, "vers": version, "deps": [
            {"name": "serde", "version_req": "^1", "features": ["derive"], "optional": False,
             "default_features": True, "target": None, "kind": "normal",
             "registry": "https://github.com/rust-lang/crates.io-index"}],
        "features": {"default": ["std"], "std": []}, "authors": ["bench"],
        "description": "benchmark crate", "documentation": None, "homepage": None,
        "readme": None, "readme_file": None, "keywords": [], "categories": [],
        "license": "MIT", "license_file": None, "repository": None, "badges": {},
        "links": None, "rust_version": None}).encode()
    data = crate_bytes(version)
    return struct.pack("<I", len(meta)) + meta + struct.pack("<I", len(data)) + data


def publish_all(port, path, token, count):
    """Publishes versions 1..count; returns the seconds each publish took."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    times = []
    for i in range(count):
        body = publish_body(f"0.{i // 100}.{i % 100}")
        start = time.perf_counter()
        conn.request("PUT", path, body=body, headers={"Authorization": token})
        response = conn.getresponse()
        response.read()
        times.append(time.perf_counter() - start)
        if response.status != 200:
            raise RuntimeError(f"publish {i} answered {response.status}")
    return times


def check_index(port, path, count):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path)
    response = conn.getresponse()
    lines = response.read().decode().strip().splitlines()
    if response.status != 200 or len(lines) != count:
        raise RuntimeError(f"{path}: {response.status} with {len(lines)} lines, expected {count}")


def start_kellnr(binary, work):
    port = free_port()
    env = dict(os.environ, KELLNR_REGISTRY__DATA_DIR=os.path.join(work, "kellnr-data"),
               KELLNR_LOCAL__IP="127.0.0.1", KELLNR_LOCAL__PORT=str(port),
               KELLNR_ORIGIN__PORT=str(port))
    proc = subprocess.Popen([binary, "start"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    wait_port(port)
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    def post(path, body):
        req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        return opener.open(req).read()
    post("/api/v1/auth/login", {"user": "admin", "pwd": "admin"})
    token = json.loads(post("/api/v1/users/me/tokens", {"name": "bench"}))["token"]
    return proc, port, token


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--versions", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--kellnr", default=os.environ.get("KELLNR_BIN"))
    parser.add_argument("--no-kellnr", action="store_true")
    args = parser.parse_args()
    if not os.path.exists(WHARF):
        sys.exit("build first: cargo build --release")
    work = tempfile.mkdtemp(prefix="wharf-cargo-bench-")
    rows = []
    index_path = f"/be/nc/{CRATE}"

    proc, port, token = start_wharf(work)
    times = publish_all(port, "/cargo/main/api/v1/crates/new", token, args.versions)
    check_index(port, f"/cargo/main/index{index_path}", args.versions)
    early, late = statistics.mean(times[:10]), statistics.mean(times[-10:])
    w_rps, w_p50, w_p99, _ = wrk(f"http://127.0.0.1:{port}/cargo/main/index{index_path}", proc.pid, args.seconds)
    proc.terminate()
    proc.wait()
    rows.append(("Wharf", w_rps, w_p50, w_p99))

    if not args.no_kellnr:
        if not args.kellnr or not os.path.exists(args.kellnr):
            sys.exit("give --kellnr PATH (or KELLNR_BIN), or --no-kellnr")
        kproc, kport, ktoken = start_kellnr(args.kellnr, work)
        publish_all(kport, "/api/v1/crates/new", ktoken, args.versions)
        check_index(kport, f"/api/v1/crates{index_path}", args.versions)
        k_rps, k_p50, k_p99, _ = wrk(f"http://127.0.0.1:{kport}/api/v1/crates{index_path}", kproc.pid, args.seconds)
        kproc.terminate()
        kproc.wait()
        rows.append(("Kellnr 6.13.0", k_rps, k_p50, k_p99))

    print(f"| index file, {args.versions} versions, 16 connections | req/s | p50 | p99 |")
    print("|---|---|---|---|")
    for name, rps, p50, p99 in rows:
        print(f"| {name} | {rps:.0f} | {p50:.2f} ms | {p99:.2f} ms |")
    if len(rows) == 2:
        print(f"\nWharf / Kellnr: {rows[0][1] / rows[1][1]:.1f}x (target >= 5x; Wharf p99 target < 5 ms)")
    print(f"\nWharf publish, mean of 10: with 0-9 existing versions {early * 1000:.1f} ms; "
          f"with {args.versions - 10}-{args.versions - 1} existing {late * 1000:.1f} ms "
          f"(ratio {late / early:.2f}, target within 2x)")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
