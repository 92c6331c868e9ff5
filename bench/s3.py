#!/usr/bin/env python3
"""Issue 3's storage targets: a 1 GiB upload and download through Wharf to a local S3 server
against what the same S3 server does alone with a direct client, in the same run; Wharf's peak
RSS during either; and redirect mode (a presigned 307) against the S3 server's own download.

The S3 server is s3s-fs (`cargo install --locked s3s-fs@0.14.1 --features binary`, as
scripts/test does); the direct client is boto3, installed from PyPI into target/bench-tools/s3,
with its defaults (8 MiB parts, 10 threads) and with one stream (what one HTTP client of Wharf
is). Wharf is driven with curl: a generic upload without and one with a declared SHA-256 (the
latter is written in place on S3, with no copy at the commit), a download, and a redirected
download. Each transfer starts after `sync`, on fresh content; the rounds repeat (`--runs`)
because this machine's figures move between consecutive runs.

Usage: cargo build --release && python3 bench/s3.py [--mib 1024] [--runs 3]
"""

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import ROOT, WHARF, free_port, progress, start_wharf, wait_port  # noqa: E402

TOOLS = os.path.join(ROOT, "target", "bench-tools", "s3")
KEY, SECRET, BUCKET = "bench", "bench-secret", "bench"


def boto3_python():
    python = os.path.join(TOOLS, "bin", "python")
    if not os.path.exists(python):
        progress("installing boto3 into target/bench-tools/s3")
        subprocess.run([sys.executable, "-m", "venv", TOOLS], check=True)
        subprocess.run([python, "-m", "pip", "install", "-q", "boto3"], check=True)
    return python


DIRECT = """
import sys, time, boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
endpoint, op, path, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
transfer = TransferConfig(max_concurrency=threads, use_threads=threads > 1)
s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="%s",
                  aws_secret_access_key="%s", region_name="us-east-1",
                  config=Config(s3={"addressing_style": "path"}))
started = time.perf_counter()
if op == "put":
    s3.upload_file(path, "%s", "direct.bin", Config=transfer)
else:
    s3.download_file("%s", "direct.bin", path, Config=transfer)
print(time.perf_counter() - started)
""" % (KEY, SECRET, BUCKET, BUCKET)


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def curl_seconds(args):
    out = subprocess.run(["curl", "--silent", "--show-error", "-w", "%{http_code} %{time_total}", *args],
                         check=True, capture_output=True, text=True).stdout
    code, seconds = out.split()[-2:]
    if code not in ("200", "201"):
        raise SystemExit(f"curl {args}: HTTP {code}")
    return float(seconds)


def random_file(path, mib):
    """Writes `mib` MiB of fresh random data (each upload new content: Wharf stores a content
    it already has without writing it again) and returns its SHA-256."""
    digest = hashlib.sha256()
    with open(path, "wb") as f:
        for _ in range(mib):
            chunk = os.urandom(1 << 20)
            digest.update(chunk)
            f.write(chunk)
    return digest.hexdigest()


def timed(measure):
    """Runs `measure` after the page cache has written everything back, so that no transfer
    pays for the previous one's dirty pages (the S3 server keeps its objects on this disk)."""
    os.sync()
    time.sleep(1)
    return measure()


def run_once(number, work, endpoint, python, wharf, mib):
    """One round: boto3 alone (10 threads, then one stream), then through Wharf (an upload
    without and one with a declared digest, a download, a redirected download), each on
    fresh content."""
    size = mib << 20
    base, auth = wharf
    source = os.path.join(work, "source.bin")
    declared = os.path.join(work, "declared.bin")
    target = os.path.join(work, "out.bin")
    random_file(source, mib)

    def direct(op, path, threads):
        seconds = float(subprocess.run([python, "-c", DIRECT, endpoint, op, path, str(threads)],
                                       check=True, capture_output=True, text=True).stdout)
        if op == "get":
            os.remove(path)
        return seconds

    def got_whole(seconds):
        if os.path.getsize(target) != size:
            raise SystemExit("a download through Wharf is not whole")
        os.remove(target)
        return seconds

    r = {}
    r["put_direct"] = timed(lambda: direct("put", source, 10))
    r["get_direct"] = timed(lambda: direct("get", target, 10))
    r["put_single"] = timed(lambda: direct("put", source, 1))
    r["get_single"] = timed(lambda: direct("get", target, 1))
    path = f"bench/{number}/big.bin"
    r["put_wharf"] = timed(lambda: curl_seconds(["-o", "/dev/null", "-H", auth, "--upload-file", source,
                                                 f"{base}/generic/main/{path}"]))
    sha256 = random_file(declared, mib)
    r["put_declared"] = timed(lambda: curl_seconds(["-o", "/dev/null", "-H", auth, "-H",
                                                    f"X-Checksum-Sha256: {sha256}", "--upload-file",
                                                    declared, f"{base}/generic/main/bench/{number}/declared.bin"]))
    os.remove(declared)
    r["get_wharf"] = timed(lambda: got_whole(curl_seconds(["-o", target, f"{base}/generic/main/{path}"])))
    curl_seconds(["-o", "/dev/null", "-H", auth, "--upload-file", source, f"{base}/generic/direct/{path}"])
    r["get_redirect"] = timed(lambda: got_whole(curl_seconds(["-L", "-o", target,
                                                              f"{base}/generic/direct/{path}"])))
    # The same presigned URL fetched by curl alone: the S3 server's own single-stream speed.
    location = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{redirect_url}",
                               f"{base}/generic/direct/{path}"],
                              check=True, capture_output=True, text=True).stdout
    r["get_presigned"] = timed(lambda: got_whole(curl_seconds(["-o", target, location])))
    os.remove(source)
    return r


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not os.path.exists(WHARF):
        sys.exit("build first: cargo build --release")
    if shutil.which("s3s-fs") is None:
        sys.exit("install s3s-fs first: cargo install --locked s3s-fs@0.14.1 --features binary")
    python = boto3_python()
    work = tempfile.mkdtemp(prefix="wharf-s3-bench-")
    port = free_port()
    os.makedirs(os.path.join(work, "s3", BUCKET))
    s3 = subprocess.Popen(["s3s-fs", "--host", "127.0.0.1", "--port", str(port), "--access-key", KEY,
                           "--secret-key", SECRET, os.path.join(work, "s3")],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port)
    endpoint = f"http://127.0.0.1:{port}"
    env = {"WHARF_STORAGE__BACKEND": "s3", "WHARF_STORAGE__S3__ENDPOINT": endpoint,
           "WHARF_STORAGE__S3__BUCKET": BUCKET, "WHARF_STORAGE__S3__PREFIX": "wharf",
           "WHARF_STORAGE__S3__ACCESS_KEY_ID": KEY, "WHARF_STORAGE__S3__SECRET_ACCESS_KEY": SECRET}
    proc, wport, token = start_wharf(work, env=env)
    base = f"http://127.0.0.1:{wport}"
    auth = f"Authorization: Bearer {token}"
    subprocess.run(["curl", "-s", "-f", "-o", "/dev/null", "-H", auth, "-H", "Content-Type: application/json",
                    "--data", json.dumps({"name": "direct", "format": "generic", "redirect_downloads": True}),
                    f"{base}/api/v1/repositories"], check=True)
    rss_idle = peak_rss_mib(proc.pid)
    runs = []
    for number in range(args.runs):
        progress(f"run {number + 1} of {args.runs}")
        runs.append(run_once(number, work, endpoint, python, (base, auth), args.mib))
    rss_peak = peak_rss_mib(proc.pid)
    proc.terminate()
    proc.wait()
    s3.terminate()
    s3.wait()
    shutil.rmtree(work)

    mib = args.mib
    print(f"MiB/s for {mib} MiB; ratios are Wharf / boto3 with 10 threads in the same run")
    print()
    print("| run | boto3 10 thr. up | boto3 1 stream up | Wharf up | ratio | Wharf up, digest declared | ratio "
          "| boto3 10 thr. down | boto3 1 stream down | Wharf down | ratio | redirect vs curl on the URL |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    ratios = {"up": [], "declared": [], "down": [], "redirect": []}
    for number, r in enumerate(runs, 1):
        up, declared = r["put_direct"] / r["put_wharf"], r["put_direct"] / r["put_declared"]
        down, redirect = r["get_direct"] / r["get_wharf"], r["get_presigned"] / r["get_redirect"]
        for name, value in (("up", up), ("declared", declared), ("down", down), ("redirect", redirect)):
            ratios[name].append(value)
        print(f"| {number} | {mib / r['put_direct']:.0f} | {mib / r['put_single']:.0f} | {mib / r['put_wharf']:.0f} "
              f"| {up:.2f}x | {mib / r['put_declared']:.0f} | {declared:.2f}x | {mib / r['get_direct']:.0f} "
              f"| {mib / r['get_single']:.0f} | {mib / r['get_wharf']:.0f} | {down:.2f}x "
              f"| {mib / r['get_redirect']:.0f} vs {mib / r['get_presigned']:.0f}, {redirect:.2f}x |")
    print()
    print("Median ratios: " + ", ".join(f"{name} {statistics.median(values):.2f}x"
                                        for name, values in ratios.items()))
    print(f"Wharf peak RSS: {rss_idle:.0f} MiB idle, {rss_peak:.0f} MiB over all runs (target < 128 MiB)")


if __name__ == "__main__":
    main()
