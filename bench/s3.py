#!/usr/bin/env python3
"""Issue 3's storage targets: a 1 GiB upload and download through Wharf to a local S3 server
against what the same S3 server does alone with a direct client, in the same run; Wharf's peak
RSS during either; and redirect mode (a presigned 307) against the S3 server's own download.

The S3 server is s3s-fs (`cargo install --locked s3s-fs@0.14.1 --features binary`, as
scripts/test does); the direct client is boto3, installed from PyPI into target/bench-tools/s3,
with its defaults (8 MiB parts, 10 threads) and with one stream (what one HTTP client of Wharf
is). Wharf is driven with curl.

Usage: cargo build --release && python3 bench/s3.py [--mib 1024]
"""

import argparse
import json
import os
import shutil
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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=1024)
    args = parser.parse_args()
    if not os.path.exists(WHARF):
        sys.exit("build first: cargo build --release")
    if shutil.which("s3s-fs") is None:
        sys.exit("install s3s-fs first: cargo install --locked s3s-fs@0.14.1 --features binary")
    python = boto3_python()
    work = tempfile.mkdtemp(prefix="wharf-s3-bench-")
    size = args.mib << 20
    source = os.path.join(work, "source.bin")
    progress(f"writing {args.mib} MiB of random data")
    with open(source, "wb") as f:
        for _ in range(args.mib):
            f.write(os.urandom(1 << 20))

    port = free_port()
    os.makedirs(os.path.join(work, "s3", BUCKET))
    s3 = subprocess.Popen(["s3s-fs", "--host", "127.0.0.1", "--port", str(port), "--access-key", KEY,
                           "--secret-key", SECRET, os.path.join(work, "s3")],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port)
    endpoint = f"http://127.0.0.1:{port}"
    rows = []

    progress("S3 alone with boto3: its defaults (10 threads), then one stream")
    target = os.path.join(work, "direct.out")

    def direct(op, path, threads):
        seconds = float(subprocess.run([python, "-c", DIRECT, endpoint, op, path, str(threads)],
                                       check=True, capture_output=True, text=True).stdout)
        if op == "get":
            os.remove(path)
        return seconds
    put_direct, get_direct = direct("put", source, 10), direct("get", target, 10)
    put_single, get_single = direct("put", source, 1), direct("get", target, 1)

    progress("Wharf on the same S3 server")
    env = {"WHARF_STORAGE__BACKEND": "s3", "WHARF_STORAGE__S3__ENDPOINT": endpoint,
           "WHARF_STORAGE__S3__BUCKET": BUCKET, "WHARF_STORAGE__S3__PREFIX": "wharf",
           "WHARF_STORAGE__S3__ACCESS_KEY_ID": KEY, "WHARF_STORAGE__S3__SECRET_ACCESS_KEY": SECRET}
    proc, wport, token = start_wharf(work, env=env)
    base = f"http://127.0.0.1:{wport}"
    auth = f"Authorization: Bearer {token}"
    rss_idle = peak_rss_mib(proc.pid)
    put_wharf = curl_seconds(["-o", "/dev/null", "-H", auth, "--upload-file", source,
                              f"{base}/generic/main/bench/1/big.bin"])
    rss_put = peak_rss_mib(proc.pid)
    out = os.path.join(work, "wharf.out")
    get_wharf = curl_seconds(["-o", out, f"{base}/generic/main/bench/1/big.bin"])
    rss_get = peak_rss_mib(proc.pid)
    if os.path.getsize(out) != size:
        raise SystemExit("the download is not whole")
    os.remove(out)

    progress("Wharf redirecting to presigned URLs")
    subprocess.run(["curl", "-s", "-f", "-o", "/dev/null", "-H", auth, "-H", "Content-Type: application/json",
                    "--data", json.dumps({"name": "direct", "format": "generic", "redirect_downloads": True}),
                    f"{base}/api/v1/repositories"], check=True)
    curl_seconds(["-o", "/dev/null", "-H", auth, "--upload-file", source,
                  f"{base}/generic/direct/bench/1/big.bin"])
    get_redirect = curl_seconds(["-L", "-o", out, f"{base}/generic/direct/bench/1/big.bin"])
    if os.path.getsize(out) != size:
        raise SystemExit("the redirected download is not whole")
    os.remove(out)
    # The same presigned URL fetched by curl alone: the S3 server's own single-stream speed.
    location = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{redirect_url}",
                               f"{base}/generic/direct/bench/1/big.bin"],
                              check=True, capture_output=True, text=True).stdout
    get_presigned = curl_seconds(["-o", out, location])
    proc.terminate()
    proc.wait()
    s3.terminate()
    s3.wait()
    shutil.rmtree(work)

    mib = args.mib
    rows = [("upload", put_direct, put_single, put_wharf), ("download", get_direct, get_single, get_wharf),
            ("download, redirect mode", get_direct, get_single, get_redirect)]
    print(f"| {mib} MiB | S3 alone, boto3 10 threads | S3 alone, boto3 1 stream | through Wharf, curl | "
          "Wharf / 10 threads | Wharf / 1 stream |")
    print("|---|---|---|---|---|---|")
    for name, alone, single, wharf in rows:
        print(f"| {name} | {mib / alone:.0f} MiB/s | {mib / single:.0f} MiB/s | {mib / wharf:.0f} MiB/s | "
              f"{alone / wharf:.2f}x | {single / wharf:.2f}x |")
    print()
    print(f"Redirect mode against the S3 server alone with the same client (curl, one stream, "
          f"the presigned URL Wharf answered): {mib / get_redirect:.0f} MiB/s through the 307, "
          f"{mib / get_presigned:.0f} MiB/s direct, {get_presigned / get_redirect:.2f}x")
    print(f"Wharf peak RSS: {rss_idle:.0f} MiB idle, {rss_put:.0f} MiB after the upload, "
          f"{rss_get:.0f} MiB after the download (target < 128 MiB)")


if __name__ == "__main__":
    main()
