"""OCI registry benchmark (issue 5), Wharf side by side with Debian's docker-registry (CNCF
distribution 2.8.2) on the same disk:

- push then pull a 1 GiB single-layer image with skopeo (an OCI layout made here: one
  uncompressed tar layer of incompressible data, so neither side spends time compressing);
- manifest GET by tag with wrk, 16 connections, each server pinned to core 0;
- Wharf's peak RSS (VmHWM) while the 1 GiB layer is pushed.

Run: cargo build --release && python3 bench/oci.py [--size-mib 1024] [--seconds 10]
"""

import argparse
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import time

from common import progress, free_port, wait_port, wrk, start_wharf

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
ACCEPT = ("Accept: application/vnd.oci.image.manifest.v1+json, "
          "application/vnd.docker.distribution.manifest.v2+json")


def write_blob(layout, data):
    digest = hashlib.sha256(data).hexdigest()
    with open(os.path.join(layout, "blobs", "sha256", digest), "wb") as f:
        f.write(data)
    return digest


def make_layout(layout, size_mib):
    """An OCI layout with tag `big`: one uncompressed tar layer holding `size_mib` MiB of random
    bytes, hashed while written."""
    os.makedirs(os.path.join(layout, "blobs", "sha256"))
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    tmp = os.path.join(layout, "layer.tar")
    size = size_mib << 20
    sha = hashlib.sha256()

    class Hashing(io.RawIOBase):
        def __init__(self, out):
            self.out = out

        def writable(self):
            return True

        def write(self, b):
            sha.update(b)
            return self.out.write(b)

    with open(tmp, "wb") as raw:
        out = Hashing(raw)
        with tarfile.open(fileobj=out, mode="w|", format=tarfile.GNU_FORMAT) as tar:
            info = tarfile.TarInfo("data.bin")
            info.size = size

            class Random(io.RawIOBase):
                left = size

                def readable(self):
                    return True

                def readinto(self, b):
                    n = min(len(b), self.left, 1 << 20)
                    b[:n] = os.urandom(n)
                    self.left -= n
                    return n
            tar.addfile(info, io.BufferedReader(Random(), 1 << 20))
    layer_digest = sha.hexdigest()
    layer_size = os.path.getsize(tmp)
    os.rename(tmp, os.path.join(layout, "blobs", "sha256", layer_digest))
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": [f"sha256:{layer_digest}"]}}).encode()
    config_digest = write_blob(layout, config)
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": f"sha256:{config_digest}", "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": f"sha256:{layer_digest}", "size": layer_size}],
    }).encode()
    manifest_digest = write_blob(layout, manifest)
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [{
            "mediaType": OCI_MANIFEST, "digest": f"sha256:{manifest_digest}", "size": len(manifest),
            "annotations": {"org.opencontainers.image.ref.name": "big"}}]}, f)
    return layer_size


def start_registry(work):
    """docker-registry on a free port, filesystem storage under `work`, no auth."""
    port = free_port()
    config = os.path.join(work, "registry.yml")
    with open(config, "w") as f:
        f.write(f"""version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: {work}/registry-data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:{port}
""")
    binary = shutil.which("docker-registry") or "/usr/bin/docker-registry"
    proc = subprocess.Popen([binary, "serve", config], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    wait_port(port)
    return proc, port


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def skopeo_seconds(args):
    started = time.perf_counter()
    subprocess.run(["skopeo", *args], check=True, capture_output=True)
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    for tool in ("skopeo", "docker-registry"):
        if shutil.which(tool) is None and not os.path.exists(f"/usr/bin/{tool}"):
            subprocess.run(["apt-get", "install", "-y", "-qq", tool], check=True)
    work = tempfile.mkdtemp(prefix="wharf-oci-bench-", dir=os.environ.get("BENCH_DIR", "/var/tmp"))
    try:
        layout = os.path.join(work, "layout")
        progress(f"building a {args.size_mib} MiB single-layer OCI layout")
        size = make_layout(layout, args.size_mib)
        registry, registry_port = start_registry(work)
        wharf, wharf_port, token = start_wharf(work)
        targets = {
            "docker-registry": (registry.pid, f"127.0.0.1:{registry_port}/bench/big", []),
            "wharf": (wharf.pid, f"127.0.0.1:{wharf_port}/main/bench/big",
                      ["--dest-creds", f"bench:{token}"]),
        }
        results = {}
        for name, (pid, image, creds) in targets.items():
            progress(f"{name}: push")
            push = skopeo_seconds(["copy", "--dest-tls-verify=false", *creds,
                                   f"oci:{layout}:big", f"docker://{image}:1"])
            rss_push = peak_rss_mib(pid)
            out = os.path.join(work, f"pulled-{name}")
            src_creds = [c.replace("--dest", "--src") for c in creds]
            progress(f"{name}: pull")
            pull = skopeo_seconds(["copy", "--src-tls-verify=false", *src_creds,
                                   f"docker://{image}:1", f"dir:{out}"])
            shutil.rmtree(out)
            host, path = image.split("/", 1)
            progress(f"{name}: manifest GET by tag")
            rps, p50, p99, _ = wrk(f"http://{host}/v2/{path}/manifests/1", pid, args.seconds,
                                   headers=[ACCEPT])
            results[name] = dict(push=size / push / 2**20, pull=size / pull / 2**20,
                                 rps=rps, p50=p50, p99=p99, rss=rss_push)
        w, r = results["wharf"], results["docker-registry"]
        print(f"{args.size_mib} MiB layer, skopeo copy:")
        for name, res in results.items():
            print(f"  {name:16} push {res['push']:7.1f} MiB/s   pull {res['pull']:7.1f} MiB/s   "
                  f"manifest GET {res['rps']:9.0f} req/s (p50 {res['p50']:.2f} ms, p99 {res['p99']:.2f} ms)   "
                  f"peak RSS {res['rss']:.0f} MiB")
        print(f"Wharf / docker-registry: push {w['push'] / r['push']:.2f}x (target >= 1.0), "
              f"pull {w['pull'] / r['pull']:.2f}x (target >= 1.0), "
              f"manifest GET {w['rps'] / r['rps']:.1f}x (target >= 10); "
              f"Wharf peak RSS {w['rss']:.0f} MiB (target < 64)")
        for proc in (wharf, registry):
            proc.terminate()
            proc.wait()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
