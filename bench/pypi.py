#!/usr/bin/env python3
"""PyPI benchmark (issue 6): the simple page of a project with 1,000 files, HTML and PEP 691
JSON, under load as pip asks for it (gzip accepted; Wharf also with the identity encoding),
16 connections, server pinned to core 0, wrk on core 1 — Wharf,
pypiserver and devpi-server side by side in one run — and the peak memory of Wharf while it
receives a 200 MiB wheel.

Usage: python3 bench/pypi.py [--files 1000] [--seconds 10] [--upload-mib 200]
Needs: a release build of Wharf, wrk (installed with apt when missing); pypiserver,
devpi-server and devpi-client are installed from PyPI into target/bench-tools/pypi.
Prints Markdown tables for bench/RESULTS.md.
"""

import argparse
import base64
import hashlib
import http.client
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import ROOT, WHARF, free_port, progress, start_wharf, wait_port, wrk  # noqa: E402

TOOLS = os.path.join(ROOT, "target", "bench-tools", "pypi")
PROJECT = "benchpkg"
JSON = "application/vnd.pypi.simple.v1+json"
BOUNDARY = "wharf-bench-boundary"


def tools():
    if not os.path.exists(os.path.join(TOOLS, "bin", "devpi-server")):
        subprocess.run([sys.executable, "-m", "venv", TOOLS], check=True)
        subprocess.run([os.path.join(TOOLS, "bin", "pip"), "install", "-q", "pypiserver",
                        "devpi-server", "devpi-client"], check=True)


def wheel(version, payload=b""):
    """A small wheel of PROJECT `version` (with `payload` as an extra stored file)."""
    dist = f"{PROJECT}-{version}.dist-info"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(f"{PROJECT}/__init__.py", f"VERSION = {version!r}\n")
        z.writestr(f"{dist}/METADATA", f"Metadata-Version: 2.1\nName: {PROJECT}\n"
                   f"Version: {version}\nSummary: benchmark\nRequires-Python: >=3.8\n\n")
        z.writestr(f"{dist}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        if payload:
            z.writestr(f"{PROJECT}/payload.bin", payload, compress_type=zipfile.ZIP_STORED)
    return out.getvalue()


TAGS = [f"cp3{minor}-cp3{minor}-{platform}" for minor in range(8, 13)
        for platform in ("manylinux_2_17_x86_64", "win_amd64")]


def filename(version, tag="py3-none-any"):
    return f"{PROJECT}-{version}-{tag}.whl"


def releases(count):
    """`count` files as (version, tag): ten platform wheels per release, as real projects
    with binary wheels have (and as devpi-server can be loaded with in minutes)."""
    return [(f"1.{i // 10 // 100}.{i // 10 % 100}", TAGS[i % 10]) for i in range(count)]


def form_parts(version, tag, size, sha256):
    fields = {":action": "file_upload", "protocol_version": "1", "metadata_version": "2.1",
              "name": PROJECT, "version": version, "filetype": "bdist_wheel",
              "pyversion": "py3", "sha256_digest": sha256}
    head = b"".join(f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                    .encode() for k, v in fields.items())
    head += (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"content\"; "
             f"filename=\"{filename(version, tag)}\"\r\nContent-Type: application/octet-stream\r\n\r\n").encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    return head, tail, head.__len__() + size + len(tail)


def upload(port, path, auth, version, data, tag="py3-none-any"):
    head, tail, length = form_parts(version, tag, len(data), hashlib.sha256(data).hexdigest())
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request("POST", path, body=head + data + tail, headers={
        "Authorization": auth, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        "Content-Length": str(length)})
    response = conn.getresponse()
    body = response.read()
    if response.status != 200:
        raise RuntimeError(f"upload {version} to :{port}{path}: {response.status} {body[:200]!r}")


def check_page(port, path, count, accept=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", path, headers={"Accept": accept} if accept else {})
    response = conn.getresponse()
    body = response.read().decode()
    found = body.count(".whl")
    if response.status != 200 or found < count:
        raise RuntimeError(f":{port}{path}: {response.status} listing {found} of {count} files")
    return response.getheader("Content-Type", "")


def load(url, pid, seconds, accept=None, gzip=True):
    """Loads `url` as pip does (`Accept-Encoding: gzip, deflate`) or, with `gzip=False`, asking
    for the identity encoding, after one request that warms the server's caches."""
    headers = [f"Accept: {accept}"] if accept else []
    headers.append("Accept-Encoding: gzip, deflate" if gzip else "Accept-Encoding: identity")
    warm = [arg for h in headers for arg in ("-H", h)]
    subprocess.run(["curl", "-sf", "-o", "/dev/null", *warm, url], check=True)
    return wrk(url, pid, seconds, headers)[:3]


def start_pypiserver(work, count):
    packages = os.path.join(work, "pypiserver-packages")
    os.makedirs(packages)
    for v, tag in releases(count):
        with open(os.path.join(packages, filename(v, tag)), "wb") as f:
            f.write(wheel(v))
    port = free_port()
    proc = subprocess.Popen([os.path.join(TOOLS, "bin", "pypi-server"), "run", "-p", str(port),
                             "-i", "127.0.0.1", "-a", ".", "-P", ".", packages],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port)
    return proc, port


def start_devpi(work, count):
    server_dir = os.path.join(work, "devpi")
    bin_dir = os.path.join(TOOLS, "bin")
    subprocess.run([os.path.join(bin_dir, "devpi-init"), "--serverdir", server_dir,
                    "--root-passwd", "bench", "--no-root-pypi"], check=True, capture_output=True)
    port = free_port()
    proc = subprocess.Popen([os.path.join(bin_dir, "devpi-server"), "--serverdir", server_dir,
                             "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port)
    client = os.path.join(work, "devpi-client")
    devpi = [os.path.join(bin_dir, "devpi"), "--clientdir", client]
    subprocess.run(devpi + ["use", f"http://127.0.0.1:{port}"], check=True, capture_output=True)
    subprocess.run(devpi + ["login", "root", "--password", "bench"], check=True, capture_output=True)
    subprocess.run(devpi + ["index", "-c", "dev", "bases="], check=True, capture_output=True)
    auth = "Basic " + base64.b64encode(b"root:bench").decode()
    for i, (v, tag) in enumerate(releases(count)):
        upload(port, "/root/dev/", auth, v, wheel(v), tag)
        if i % 100 == 99:
            progress(f"devpi-server: {i + 1} files uploaded")
    return proc, port


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def big_upload(work, mib):
    """Uploads a wheel of about `mib` MiB to a fresh Wharf; returns its peak RSS and seconds."""
    proc, port, token = start_wharf(work, "wharf-big")
    auth = f"Bearer {token}"
    data = wheel("9.9.9", os.urandom(mib << 20))
    start = time.perf_counter()
    upload(port, "/pypi/main/", auth, "9.9.9", data)
    seconds = time.perf_counter() - start
    rss = peak_rss_mib(proc.pid)
    proc.terminate()
    proc.wait()
    return len(data), rss, seconds


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--upload-mib", type=int, default=200)
    args = parser.parse_args()
    if not os.path.exists(WHARF):
        sys.exit("build first: cargo build --release")
    tools()
    work = tempfile.mkdtemp(prefix="wharf-pypi-bench-")
    rows = []

    progress("Wharf: uploading")
    proc, port, token = start_wharf(work, "wharf")
    auth = f"Bearer {token}"
    for v, tag in releases(args.files):
        upload(port, "/pypi/main/", auth, v, wheel(v), tag)
    page = f"http://127.0.0.1:{port}/pypi/main/simple/{PROJECT}/"
    check_page(port, f"/pypi/main/simple/{PROJECT}/", args.files)
    check_page(port, f"/pypi/main/simple/{PROJECT}/", args.files, JSON)
    progress("Wharf: load")
    rows.append(("Wharf", "HTML", *load(page, proc.pid, args.seconds)))
    rows.append(("Wharf", "JSON", *load(page, proc.pid, args.seconds, JSON)))
    rows.append(("Wharf", "HTML, identity", *load(page, proc.pid, args.seconds, gzip=False)))
    rows.append(("Wharf", "JSON, identity", *load(page, proc.pid, args.seconds, JSON, gzip=False)))
    proc.terminate()
    proc.wait()

    progress("pypiserver")
    proc, port = start_pypiserver(work, args.files)
    check_page(port, f"/simple/{PROJECT}/", args.files)
    rows.append(("pypiserver", "HTML", *load(f"http://127.0.0.1:{port}/simple/{PROJECT}/", proc.pid, args.seconds)))
    proc.terminate()
    proc.wait()

    progress("devpi-server: uploading")
    proc, port = start_devpi(work, args.files)
    path = f"/root/dev/+simple/{PROJECT}/"
    check_page(port, path, args.files)
    json_type = check_page(port, path, args.files, JSON)
    devpi_json = "JSON" if "json" in json_type else f"JSON asked, {json_type} served"
    rows.append(("devpi-server", "HTML", *load(f"http://127.0.0.1:{port}{path}", proc.pid, args.seconds)))
    rows.append(("devpi-server", devpi_json,
                 *load(f"http://127.0.0.1:{port}{path}", proc.pid, args.seconds, JSON)))
    proc.terminate()
    proc.wait()

    print(f"| simple page, {args.files} files, 16 connections | form | req/s | p50 | p99 |")
    print("|---|---|---|---|---|")
    for name, form, rps, p50, p99 in rows:
        print(f"| {name} | {form} | {rps:.0f} | {p50:.2f} ms | {p99:.2f} ms |")
    by = {(n, f): r for n, f, r, _, _ in rows}
    print(f"\nWharf HTML / pypiserver HTML: {by[('Wharf', 'HTML')] / by[('pypiserver', 'HTML')]:.1f}x (target >= 10x)")
    for form in ("HTML", "JSON"):
        devpi = next(r for n, f, r, _, _ in rows if n == "devpi-server" and f.startswith(form))
        print(f"Wharf {form} / devpi-server {form}: {by[('Wharf', form)] / devpi:.1f}x (target >= 20x)")

    progress("Wharf: large upload")
    size, rss, seconds = big_upload(work, args.upload_mib)
    print(f"\nUpload of a {size / 2**20:.0f} MiB wheel: {seconds:.2f} s, Wharf peak RSS (VmHWM) "
          f"{rss:.1f} MiB (target < 64 MiB)")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
