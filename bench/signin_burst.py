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
import threading
import time
import urllib.error
import urllib.request

from jifen_bench import ADMIN_PASSWORD, rss_mb, serving


def sign_in(base, i):
    password = ADMIN_PASSWORD if i % 2 == 0 else "wrong-password"
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
    with serving(args.binary, JIFEN_TRUSTED_PROXIES="1") as (base, server):
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


if __name__ == "__main__":
    main()
