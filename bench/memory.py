#!/usr/bin/env python3
"""Memory per redemption (issue 13, point 4): the server's RSS after 1k card redemptions
and after --redemptions more, on a fresh SQLite (or --pg-url) database built as bench.py
builds it. With --heaptrack the server runs under heaptrack and the profile's path is
printed (read it with heaptrack_print); RSS is then the profiler's, not jifen's.
"""
import argparse
import os
import shutil
import subprocess
import tempfile

from bench import Jifen, build_world, wrk

HERE = os.path.dirname(os.path.abspath(__file__))


def redeem(jifen, cards, world, keeper, count, run):
    """At least `count` redemptions at 16 clients; returns how many were made."""
    done = 0
    while done < count:
        seconds = max(2, min(30, (count - done) // 400))
        result = wrk(jifen.api.base + "/", "card_redeem.lua", 16, seconds, cards, world["shop"], world["goods"],
                     keeper, run=f"{run}-{done}")
        done += result["statuses"].get("201", 0)
    return done


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--jifen", default="target/release/jifen")
    parser.add_argument("--redemptions", type=int, default=100_000)
    parser.add_argument("--households", type=int, default=250)
    parser.add_argument("--heaptrack", action="store_true")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="jifen-memory-")
    profile = tempfile.mkdtemp(prefix="jifen-heap-")
    jifen = Jifen(args.jifen, f"sqlite://{work}/jifen.db", work,
                  wrapper=["heaptrack", "-o", os.path.join(profile, "jifen")] if args.heaptrack else [])
    jifen.start()
    try:
        world = build_world(jifen, 2, args.households)
        cards = os.path.join(work, "cards.txt")
        with open(cards, "w") as f:
            f.write("\n".join(world["cards"]) + "\n")
        keeper = jifen.api.token("keeper")
        idle = jifen.rss()
        first = redeem(jifen, cards, world, keeper, 1_000, "first")
        after_first = jifen.rss()
        more = redeem(jifen, cards, world, keeper, args.redemptions, "more")
        after_more = jifen.rss()
        print(f"RSS idle {idle:.1f} MB; after {first} redemptions {after_first:.1f} MB; "
              f"after {first + more} {after_more:.1f} MB; ratio {after_more / after_first:.2f}")
    finally:
        if args.heaptrack:
            # heaptrack's script waits for jifen, which is its child: stop that one.
            subprocess.run(["pkill", "-TERM", "-P", str(jifen.process.pid)])
            jifen.process.wait()
            print("heaptrack profile in", profile, os.listdir(profile))
        jifen.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
