#!/usr/bin/env python3
"""RSS of a jifen server under a burst of concurrent staff sign-ins.

Starts the given jifen binary on a fresh SQLite database, bootstraps a township admin,
records the server's RSS at rest, fires N concurrent sign-ins (half right, half wrong
passwords, from different X-Forwarded-For addresses so the limits stay out of the way),
samples RSS while they run, and reports peak and settled RSS.

    python3 bench/signin_burst.py target/release/jifen [--burst 200]
"""
import argparse
import concurrent.futures
import json
import os
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sign_in(base, i):
    password = "correct-horse-42" if i % 2 == 0 else "wrong-password"
    body = json.dumps({"username": "admin", "password": password}).encode()
    request = urllib.request.Request(
        f"{base}/api/v1/auth/login",
        data=body,
        headers={"Content-Type": "application/json", "X-Forwarded-For": f"10.1.{i // 250}.{i % 250}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("--burst", type=int, default=200)
    args = parser.parse_args()
    work = tempfile.mkdtemp()
    port = free_port()
    env = dict(
        os.environ,
        JIFEN_DATABASE_URL=f"sqlite://{work}/jifen.db",
        JIFEN_BIND=f"127.0.0.1:{port}",
        JIFEN_DATA_DIR=work,
        JIFEN_TRUSTED_PROXIES="1",
        JIFEN_LOG="error",
    )
    subprocess.run([args.binary, "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run(
        [args.binary, "bootstrap", "--username", "admin", "--password", "correct-horse-42"],
        env=env, check=True, stdout=subprocess.DEVNULL,
    )
    server = subprocess.Popen([args.binary], env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        # Warm up: one sign-in so the allocator and pools are in their working state.
        sign_in(base, 0)
        time.sleep(1)
        rest = rss_mb(server.pid)
        peak = [rest]
        done = threading.Event()

        def sample():
            while not done.is_set():
                peak[0] = max(peak[0], rss_mb(server.pid))
                time.sleep(0.02)

        sampler = threading.Thread(target=sample)
        sampler.start()
        started = time.time()
        with concurrent.futures.ThreadPoolExecutor(args.burst) as pool:
            statuses = list(pool.map(lambda i: sign_in(base, i), range(args.burst)))
        elapsed = time.time() - started
        done.set()
        sampler.join()
        time.sleep(2)
        settled = rss_mb(server.pid)
        counts = {s: statuses.count(s) for s in sorted(set(statuses))}
        print(json.dumps({
            "burst": args.burst,
            "answers": counts,
            "seconds": round(elapsed, 2),
            "rss_rest_mb": round(rest, 1),
            "rss_peak_mb": round(peak[0], 1),
            "rss_settled_mb": round(settled, 1),
        }))
    finally:
        server.kill()


if __name__ == "__main__":
    main()
