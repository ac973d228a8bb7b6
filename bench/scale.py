#!/usr/bin/env python3
"""bench/scale's driver (issue 13, point 6): jifen's card redemption and balance read on
a province-sized PostgreSQL database against the same on a small one, in one run.

The province (database `jifen_scale`, kept between runs unless --regenerate: making it
takes most of an hour on 2 cores) is made by scale.rs through the posting function:
--villages villages of --households households, --postings postings, then checked by
`jifen verify`. Four of its villages, spread through it, get a committee, a shop, cards
and a villager as bench.py's small world does; the small database is that world alone.
Measured interleaved: small, province, small, province.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from bench import PASSWORD, Jifen, build_world, wrk, write_lines

HERE = os.path.dirname(os.path.abspath(__file__))


def psql(url, sql):
    return subprocess.run(["psql", url, "-qAt", "-c", sql], check=True, capture_output=True, text=True).stdout.strip()


def database(admin_url, name):
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def province(args, binary, work):
    """The province database, made unless it is there complete; (url, seconds to make,
    verify's seconds and last line)."""
    url = database(args.pg_url, "jifen_scale")
    exists = psql(args.pg_url, "SELECT count(*) FROM pg_database WHERE datname = 'jifen_scale'") == "1"
    complete = exists and psql(url, "SELECT count(*) FROM postings") >= str(args.postings) and psql(
        url, "SELECT count(*) FROM villages WHERE code LIKE 'scale-%'") == str(args.villages)
    made = {"seconds": None}
    if args.regenerate or not complete:
        psql(args.pg_url, "DROP DATABASE IF EXISTS jifen_scale")
        psql(args.pg_url, "CREATE DATABASE jifen_scale")
        jifen = Jifen(binary, url, work)
        jifen.command("migrate")
        jifen.command("bootstrap", "--username", "admin", "--password", PASSWORD)
        started = time.monotonic()
        subprocess.run([args.scale, url, "admin", str(args.villages), str(args.households), str(args.postings)],
                       check=True)
        made["seconds"] = time.monotonic() - started
        psql(url, "VACUUM ANALYZE")
        started = time.monotonic()
        out = jifen.command("verify").stdout.strip().splitlines()
        made["verify"] = {"seconds": time.monotonic() - started, "output": out[-1:]}
    made["postings"] = int(psql(url, "SELECT count(*) FROM postings"))
    made["households"] = int(psql(url, "SELECT count(*) FROM households"))
    made["size"] = psql(url, "SELECT pg_size_pretty(pg_database_size(current_database()))")
    return url, made


def spread_villages(url, villages, households):
    """Four villages spread through the province, with their first households."""
    picked = [f"scale-{n}" for n in (0, villages // 3, 2 * villages // 3, villages - 1)]
    existing = []
    for code in picked:
        village = int(psql(url, f"SELECT id FROM villages WHERE code = '{code}'"))
        ids = [int(i) for i in psql(url, f"SELECT id FROM households WHERE village_id = {village} "
                                         f"ORDER BY id LIMIT {households}").split()]
        existing.append((village, ids))
    return existing


class Served:
    """One database served by the release binary, with its world."""

    def __init__(self, binary, url, work, existing, households):
        self.jifen = Jifen(binary, url, work)
        self.jifen.start()
        self.world = build_world(self.jifen, len(existing) if existing else 4, households, existing)
        self.cards = write_lines(work, "cards.txt", self.world["cards"])

    def card_redemption(self, clients, seconds, run):
        w = self.world
        return wrk(self.jifen.api.base + "/", "card_redeem.lua", clients, seconds, self.cards, w["shop"], w["goods"],
                   self.jifen.api.token("keeper"), run=run)

    def balance(self, clients, seconds):
        w = self.world
        return wrk(f"{self.jifen.api.base}/api/v1/households/{w['households'][0]}/balance", "get.lua", clients,
                   seconds, w["villagers"][0].access())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--jifen", default="target/release/jifen")
    parser.add_argument("--scale", required=True, help="the scale.rs generator")
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL"))
    parser.add_argument("--villages", type=int, default=2000)
    parser.add_argument("--households", type=int, default=500)
    parser.add_argument("--postings", type=int, default=10_000_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args()
    if not args.pg_url:
        sys.exit("bench/scale needs PostgreSQL: set BENCH_PG_URL")
    work = tempfile.mkdtemp(prefix="jifen-scale-")
    big_url, made = province(args, args.jifen, work)
    print(f"== province: {made}", flush=True)
    small_url = database(args.pg_url, "jifen_scale_small")
    psql(args.pg_url, "DROP DATABASE IF EXISTS jifen_scale_small")
    psql(args.pg_url, "CREATE DATABASE jifen_scale_small")
    served = {"small": Served(args.jifen, small_url, tempfile.mkdtemp(dir=work), None, 250)}
    # Each run equips a copy, so the province stays as made (its shop, committees and
    # cards are the run's).
    psql(args.pg_url, "DROP DATABASE IF EXISTS jifen_scale_run")
    psql(args.pg_url, "CREATE DATABASE jifen_scale_run TEMPLATE jifen_scale")
    run_url = database(args.pg_url, "jifen_scale_run")
    psql(run_url, "ANALYZE")
    served["province"] = Served(args.jifen, run_url, tempfile.mkdtemp(dir=work),
                                spread_villages(run_url, args.villages, 250), 250)
    figures = {}
    try:
        for clients in (1, 16):
            for round_ in range(args.rounds):
                for name, s in served.items():
                    figures.setdefault(f"card redemption, {clients} client(s)", {}).setdefault(name, []).append(
                        s.card_redemption(clients, args.seconds, f"scale-{name}-{clients}-{round_}"))
                    figures.setdefault(f"balance read, {clients} client(s)", {}).setdefault(name, []).append(
                        s.balance(clients, args.seconds))
    finally:
        for s in served.values():
            s.jifen.stop()
        psql(args.pg_url, "DROP DATABASE IF EXISTS jifen_scale_run")
        psql(args.pg_url, "DROP DATABASE IF EXISTS jifen_scale_small")
    rows = ["| figure | small /s | p99 ms | province /s | p99 ms | ratio |", "|---|---|---|---|---|---|"]
    for figure, runs in figures.items():
        small = sum(r["rate"] for r in runs["small"]) / len(runs["small"])
        big = sum(r["rate"] for r in runs["province"]) / len(runs["province"])
        rows.append(f"| {figure} | {small:.0f} | {max(r['p99_ms'] for r in runs['small']):.1f} | {big:.0f} | "
                    f"{max(r['p99_ms'] for r in runs['province']):.1f} | {big / small:.3f} |")
    table = "\n".join(rows)
    print(table)
    out = os.path.join(HERE, "results")
    os.makedirs(out, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    with open(os.path.join(out, f"scale-{stamp}.json"), "w") as f:
        json.dump({"province": made, "figures": figures}, f, indent=1)
    with open(os.path.join(out, f"scale-{stamp}.md"), "w") as f:
        f.write(table + "\n")


if __name__ == "__main__":
    main()
