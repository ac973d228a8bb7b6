#!/usr/bin/env python3
"""Rankings at village scale (issue 14, point 1): one village of --households households
(3,000) and about --postings postings (300,000, four per award: points and honour, each
with its issuance side), made through the API; then the time of each ranking read, the
honour board and a balance read beside them, on SQLite (or --pg-url).

Measured, not asserted: the figures go into the closing note.
"""
import argparse
import os
import statistics
import subprocess
import tempfile
import time

from bench import PASSWORD, Jifen

BATCH = 500


def timed(api, path, token, n):
    """Milliseconds of `n` sequential reads of `path`: (p50, max)."""
    times = []
    for _ in range(n):
        started = time.perf_counter()
        api.ok("GET", path, token)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times)


def build(jifen, households, postings):
    jifen.command("migrate")
    jifen.command("bootstrap", "--username", "admin", "--password", PASSWORD)
    api = jifen.api
    admin = api.token("admin")
    village = api.ok("POST", "/api/v1/villages", admin, {"code": "big", "name": "大村"})["id"]
    api.ok("POST", "/api/v1/staff", admin, {"username": "committee", "password": PASSWORD, "name": "村委",
                                           "roles": [{"role": "committee", "scope_id": village}]})
    committee = api.token("committee")
    api.ok("PATCH", f"/api/v1/villages/{village}", committee,
           {"policy": {"notice_days": 0, "public_rankings": True, "public_deductions": True}})
    groups = [api.ok("POST", f"/api/v1/villages/{village}/groups", committee, {"name": f"第{g + 1}组"})["id"]
              for g in range(10)]
    ids = [api.ok("POST", f"/api/v1/villages/{village}/households", committee,
                  {"door_no": f"{h + 1}号", "head_name": "张小明", "group_id": groups[h % 10]})["id"]
           for h in range(households)]
    item = lambda code, points: api.ok("POST", f"/api/v1/villages/{village}/checklist", committee, {
        "code": code, "category": "测试", "title": f"事项{code}", "points": points, "period": "event",
        "cap_count": None, "proposers": ["committee"]})["id"]
    good, fine = item("A01", "5"), item("B01", "-2")
    awards, made = postings // 4, 0
    while made < awards:
        # A token per batch: the whole build outlives a 15-minute access token.
        committee = api.token("committee")
        start = (made // BATCH * 37) % households
        batch = [ids[(start + i) % households] for i in range(min(BATCH, awards - made))]
        api.ok("POST", f"/api/v1/villages/{village}/awards", committee,
               {"item_id": fine if made // BATCH % 10 == 9 else good, "household_ids": batch, "occurred_on": "2026-11-27"},
               key=f"batch-{made}")
        made += len(batch)
    return village, ids, made * 4


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--jifen", default="target/release/jifen")
    parser.add_argument("--pg-url", help="an owner's URL of a database to create jifen_rankings beside")
    parser.add_argument("--households", type=int, default=3000)
    parser.add_argument("--postings", type=int, default=300_000)
    parser.add_argument("--reads", type=int, default=20)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="jifen-rankings-")
    if args.pg_url:
        for sql in ("DROP DATABASE IF EXISTS jifen_rankings", "CREATE DATABASE jifen_rankings"):
            subprocess.run(["psql", args.pg_url, "-qAt", "-c", sql], check=True, capture_output=True)
        url = args.pg_url.rsplit("/", 1)[0] + "/jifen_rankings"
    else:
        url = f"sqlite://{work}/jifen.db"
    jifen = Jifen(args.jifen, url, work)
    jifen.start()
    try:
        started = time.monotonic()
        village, ids, postings = build(jifen, args.households, args.postings)
        print(f"built {len(ids)} households, {postings} postings in {time.monotonic() - started:.0f} s")
        committee = jifen.api.token("committee")
        reads = {
            "rankings, honour, all time (page of 50)": f"/api/v1/villages/{village}/rankings",
            "rankings, honour, this year": f"/api/v1/villages/{village}/rankings?period=year",
            "rankings, points, this month, 500 a page": f"/api/v1/villages/{village}/rankings?period=month&asset=points&limit=500",
            "group rankings, this year": f"/api/v1/villages/{village}/group-rankings?period=year",
            "honour board, this month (public)": "/api/v1/villages/big/honour-board",
            "balance read (for scale)": f"/api/v1/households/{ids[0]}/balance",
        }
        print("| read | p50 ms | max ms |\n|---|---|---|")
        for name, path in reads.items():
            p50, worst = timed(jifen.api, path, None if "public" in name else committee, args.reads)
            print(f"| {name} | {p50:.1f} | {worst:.1f} |")
    finally:
        jifen.stop()


if __name__ == "__main__":
    main()
