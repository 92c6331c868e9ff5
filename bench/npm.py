#!/usr/bin/env python3
"""npm benchmark (issue 4): the abbreviated packument of a package with 1,000 versions,
gzip, 16 connections, server pinned to core 0 and wrk on core 1 — Wharf and verdaccio side by
side in one run; the cost of publishing version 1,001 against version 2; and the time to
serve (render) the packuments of a package with 10,000 versions right after a publish.

Usage: python3 bench/npm.py [--versions 1000] [--big 10000] [--seconds 10]
Needs: a release build of Wharf, wrk (installed with apt when missing), node and npm;
verdaccio is installed from the npm registry into target/bench-tools/npm.
Prints Markdown for bench/RESULTS.md.
"""

import argparse
import base64
import gzip
import hashlib
import http.client
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import ROOT, WHARF, free_port, progress, start_wharf, wait_port, wrk  # noqa: E402

TOOLS = os.path.join(ROOT, "target", "bench-tools", "npm")
PACKAGE = "benchpkg"
ABBREVIATED = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*"


def verdaccio_bin():
    binary = os.path.join(TOOLS, "node_modules", ".bin", "verdaccio")
    if not os.path.exists(binary):
        os.makedirs(TOOLS, exist_ok=True)
        with open(os.path.join(TOOLS, "package.json"), "w") as f:
            # The registry copy here lacks node-fetch@cjs, which verdaccio-audit asks for.
            json.dump({"name": "wharf-bench-tools", "private": True,
                       "overrides": {"verdaccio-audit": {"node-fetch": "2.7.0"}}}, f)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", "verdaccio"],
                       cwd=TOOLS, check=True)
    return binary


def tarball(name, version):
    """A package tarball as `npm pack` makes it."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for path, content in [("package/package.json",
                               json.dumps({"name": name, "version": version, "main": "index.js"})),
                              ("package/index.js", f"module.exports = {json.dumps(version)};\n")]:
            data = content.encode()
            info = tarfile.TarInfo(path)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def publish_body(name, version):
    tgz = tarball(name, version)
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(tgz).digest()).decode()
    manifest = {"name": name, "version": version, "main": "index.js",
                "description": "benchmark package", "dependencies": {"left-pad": "^1.3.0"},
                "dist": {"shasum": hashlib.sha1(tgz).hexdigest(), "integrity": integrity,
                         "tarball": f"http://localhost/{name}/-/{name}-{version}.tgz"}}
    return json.dumps({"_id": name, "name": name, "dist-tags": {"latest": version},
                       "versions": {version: manifest}, "access": None,
                       "_attachments": {f"{name}-{version}.tgz": {
                           "content_type": "application/octet-stream",
                           "data": base64.b64encode(tgz).decode(), "length": len(tgz)}}})


def request(port, method, path, token=None, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    all_headers = dict(headers or {})
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    if body is not None:
        all_headers["Content-Type"] = "application/json"
    conn.request(method, path, body=body, headers=all_headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, data


def publish(port, prefix, token, version, name=PACKAGE):
    started = time.perf_counter()
    status, data = request(port, "PUT", f"{prefix}{name}", token, publish_body(name, version))
    if status not in (200, 201):
        raise SystemExit(f"publish of {name}@{version} failed: {status} {data[:300]!r}")
    return time.perf_counter() - started


def publish_many(port, prefix, token, versions, name=PACKAGE, workers=1):
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda v: publish(port, prefix, token, v, name), versions))


def check_packument(port, path, count):
    status, data = request(port, "GET", path, headers={"Accept": ABBREVIATED, "Accept-Encoding": "gzip"})
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    doc = json.loads(data)
    if status != 200 or len(doc["versions"]) != count:
        raise SystemExit(f"{path}: {status}, {len(doc.get('versions', {}))} versions, wanted {count}")
    return len(data)


def start_verdaccio(work):
    port = free_port()
    home = os.path.join(work, "verdaccio")
    os.makedirs(home, exist_ok=True)
    config = os.path.join(home, "config.yaml")
    with open(config, "w") as f:
        f.write(f"storage: {home}/storage\n"
                f"auth:\n  htpasswd:\n    file: {home}/htpasswd\n    max_users: 10\n"
                "uplinks: {}\n"
                "packages:\n  '**':\n    access: $all\n    publish: $authenticated\n"
                f"listen: 127.0.0.1:{port}\n"
                "log: {type: stdout, format: pretty, level: error}\n")
    proc = subprocess.Popen([verdaccio_bin(), "--config", config],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port)
    status, data = request(port, "PUT", "/-/user/org.couchdb.user:bench", body=json.dumps(
        {"name": "bench", "password": "bench-password"}))
    if status not in (200, 201):
        raise SystemExit(f"verdaccio user: {status} {data!r}")
    return proc, port, json.loads(data)["token"]


def versions(count):
    return [f"1.0.{i}" for i in range(count)]


def timed_get(port, path, accept):
    """Milliseconds to answer `path` whole."""
    started = time.perf_counter()
    status, _ = request(port, "GET", path, headers={"Accept": accept, "Accept-Encoding": "gzip"})
    if status != 200:
        raise SystemExit(f"{path}: {status}")
    return (time.perf_counter() - started) * 1000


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--versions", type=int, default=1000)
    parser.add_argument("--big", type=int, default=10000)
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    if not os.path.exists(WHARF):
        sys.exit("build first: cargo build --release")
    work = tempfile.mkdtemp(prefix="wharf-npm-bench-")
    headers = [f"Accept: {ABBREVIATED}", "Accept-Encoding: gzip"]
    rows = []

    progress("Wharf: publishing")
    proc, port, token = start_wharf(work)
    prefix = "/npm/main/"
    publish(port, prefix, token, "0.0.1")
    second = publish(port, prefix, token, "0.0.2")
    publish_many(port, prefix, token, versions(args.versions - 2))
    size = check_packument(port, f"{prefix}{PACKAGE}", args.versions)
    url = f"http://127.0.0.1:{port}{prefix}{PACKAGE}"
    rows.append(("Wharf", *wrk(url, proc.pid, args.seconds, headers)[:3]))
    last = publish(port, prefix, token, "2.0.0")
    rerender = timed_get(port, f"{prefix}{PACKAGE}", ABBREVIATED)

    progress(f"Wharf: publishing {args.big} versions of another package")
    publish_many(port, prefix, token, versions(args.big), name="bigpkg", workers=4)
    publish(port, prefix, token, "2.0.0", name="bigpkg")
    big_abbrev = timed_get(port, f"{prefix}bigpkg", ABBREVIATED)
    big_full = timed_get(port, f"{prefix}bigpkg", "application/json")
    big_cached = timed_get(port, f"{prefix}bigpkg", ABBREVIATED)
    proc.terminate()
    proc.wait()

    progress("verdaccio: publishing")
    proc, port, token = start_verdaccio(work)
    publish_many(port, "/", token, versions(args.versions))
    check_packument(port, f"/{PACKAGE}", args.versions)
    rows.append(("verdaccio", *wrk(f"http://127.0.0.1:{port}/{PACKAGE}", proc.pid, args.seconds,
                                   headers)[:3]))
    proc.terminate()
    proc.wait()

    print(f"| packument, {args.versions} versions, abbreviated + gzip, 16 connections | req/s | p50 | p99 |")
    print("|---|---|---|---|")
    for name, rps, p50, p99 in rows:
        print(f"| {name} | {rps:.0f} | {p50:.2f} ms | {p99:.2f} ms |")
    print()
    print(f"Wharf / verdaccio: {rows[0][1] / rows[1][1]:.1f}x (target >= 10x); Wharf p99 "
          f"{rows[0][3]:.2f} ms (target < 10 ms); abbreviated packument {size} bytes uncompressed")
    print(f"Publish of version 2: {second * 1000:.1f} ms; of version {args.versions + 1}: "
          f"{last * 1000:.1f} ms; first GET after it (renders): {rerender:.1f} ms")
    print(f"{args.big + 1} versions, first GET after a publish: abbreviated {big_abbrev:.1f} ms, "
          f"full {big_full:.1f} ms (target < 50 ms); cached: {big_cached:.1f} ms")


if __name__ == "__main__":
    main()
