#!/usr/bin/env python3
"""bench/run's driver: jifen's rates on SQLite and PostgreSQL, each as a ratio to a
reference run in the same session, interleaved (jifen, reference, jifen, reference).

References: pgbench -M prepared running the SQL shape of one card redemption
(bench/shape.pgbench) on a copy of the same database; the same statements in a bare
loop over Python's sqlite3 (the C library, same pragmas) on a copy of the SQLite file;
an actix-web hello world (bench/hello.rs) for request overhead.

Writes bench/results/<time>.json and .md, and prints the Markdown table.
"""
import argparse
import datetime
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

from jifen_bench import rss_mb, wait_until_up
from peer import Peer

HERE = os.path.dirname(os.path.abspath(__file__))
PASSWORD = "correct-horse-42"
PIN = "2468"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Api:
    def __init__(self, base):
        self.base = base

    def call(self, method, path, token=None, body=None, key=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        if key:
            request.add_header("Idempotency-Key", key)
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                text = answer.read().decode()
                return answer.status, (json.loads(text) if text else None)
        except urllib.error.HTTPError as refused:
            return refused.code, refused.read().decode()

    def ok(self, method, path, token=None, body=None, key=None):
        status, answer = self.call(method, path, token, body, key)
        if status not in (200, 201):
            sys.exit(f"{method} {path}: {status} {answer}")
        return answer

    def token(self, username):
        return self.ok("POST", "/api/v1/auth/login", body={"username": username, "password": PASSWORD})["access_token"]


class Jifen:
    """The release binary serving one database; stopped and started between phases."""

    def __init__(self, binary, database_url, work, wrapper=()):
        self.binary, self.work, self.wrapper = binary, work, list(wrapper)
        self.port = free_port()
        self.env = dict(os.environ, JIFEN_DATABASE_URL=database_url, JIFEN_BIND=f"127.0.0.1:{self.port}",
                        JIFEN_DATA_DIR=work, JIFEN_LOG="error", JIFEN_POOL_SIZE="8")
        self.process = None
        self.api = Api(f"http://127.0.0.1:{self.port}")

    def command(self, *args):
        return subprocess.run([self.binary, *args], env=self.env, check=True, capture_output=True, text=True)

    def start(self):
        self.process = subprocess.Popen([*self.wrapper, self.binary], env=self.env, stdout=subprocess.DEVNULL)
        if not wait_until_up(f"{self.api.base}/healthz"):
            sys.exit("jifen did not start")

    def stop(self):
        if self.process:
            self.process.terminate()
            self.process.wait()
            self.process = None

    def rss(self):
        return rss_mb(self.process.pid)


def build_world(jifen, villages, households, existing=None):
    """Villages with households holding points and a card each, one shop serving all.
    `existing` (bench/scale's province): (village id, household ids) pairs already made
    and awarded, on a bootstrapped database; they get a committee, cards and the shop."""
    if existing is None:
        jifen.command("migrate")
        jifen.command("bootstrap", "--username", "admin", "--password", PASSWORD)
    api = jifen.api
    admin = api.token("admin")
    world = {"villages": [], "households": [], "cards": []}
    for v in range(len(existing) if existing else villages):
        village = existing[v][0] if existing else api.ok("POST", "/api/v1/villages", admin,
                                                         {"code": f"bench{v}", "name": f"测试{v}村"})["id"]
        api.ok("POST", "/api/v1/staff", admin, {"username": f"committee{v}", "password": PASSWORD, "name": "村委",
                                               "roles": [{"role": "committee", "scope_id": village}]})
        committee = api.token(f"committee{v}")
        api.ok("PATCH", f"/api/v1/villages/{village}", committee,
               {"policy": {"notice_days": 0, "card_daily_cap": "10000000"}})
        item = api.ok("POST", f"/api/v1/villages/{village}/checklist", committee,
                      {"code": "B01", "category": "测试", "title": "测试积分", "points": "10000",
                       "period": "event", "cap_count": None, "proposers": ["committee"]})["id"]
        if existing:
            ids = existing[v][1][:households]
        else:
            ids = [api.ok("POST", f"/api/v1/villages/{village}/households", committee,
                          {"door_no": f"{h}号", "head_name": "张小明"})["id"] for h in range(households)]
        for start in range(0, len(ids), 500):
            api.ok("POST", f"/api/v1/villages/{village}/awards", committee,
                   {"item_id": item, "household_ids": ids[start:start + 500], "quantity": 100,
                    "occurred_on": "2026-11-27"}, key=f"seed-{v}-{start}")
        for household in ids:
            card = api.ok("POST", f"/api/v1/households/{household}/cards", committee, {"pin": PIN})
            world["cards"].append(f"{card['card_token']},{PIN}")
        world["villages"].append({"id": village, "committee": f"committee{v}", "item": item, "households": ids})
        world["households"].extend(ids)
    shop = api.ok("POST", "/api/v1/shops", admin, {
        "name": "积分超市", "village_ids": [v["id"] for v in world["villages"]],
        "keeper": {"username": "keeper", "password": PASSWORD, "name": "店主"}})["id"]
    keeper = api.token("keeper")
    world["shop"] = shop
    world["goods"] = api.ok("POST", f"/api/v1/shops/{shop}/goods", keeper, {
        "name": "大米", "unit": "袋", "points_price": "1", "cost_yuan": "0.10", "stock": 1_000_000})["id"]
    world["villagers"] = [Villager(api, household, api.token(village["committee"]))
                          for village in world["villages"] for household in village["households"]]
    world["page_cookie"] = page_session(api, world["households"][0], api.token(world["villages"][0]["committee"]))
    world["keeper_id"] = api.ok("GET", "/api/v1/me", keeper)["id"]
    return world


def invite_code(api, household, committee):
    head = api.ok("GET", f"/api/v1/households/{household}/members", committee)["items"][0]["id"]
    return api.ok("POST", f"/api/v1/households/{household}/invites", committee, {"member_id": head})["invite_code"]


class Villager:
    """The head of one household signed in through the API; access tokens last 15
    minutes, so each use past 10 takes a new pair with the refresh token."""

    def __init__(self, api, household, committee):
        self.api, self.household = api, household
        self.pair = api.ok("POST", "/api/v1/auth/invite", body={"invite_code": invite_code(api, household, committee)})
        self.at = time.monotonic()

    def access(self):
        if time.monotonic() - self.at > 600:
            self.pair = self.api.ok("POST", "/api/v1/auth/refresh", body={"refresh_token": self.pair["refresh_token"]})
            self.at = time.monotonic()
        return self.pair["access_token"]

    def payment_code(self):
        return self.api.ok("POST", f"/api/v1/households/{self.household}/payment-codes", self.access(), body={})["code"]


def page_session(api, household, committee):
    """The `Cookie` header of a villager signed in on the pages (/h5/login, its CSRF
    cookie and field), for the /h5/ home."""
    class Keep(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None
    opener = urllib.request.build_opener(Keep)
    with opener.open(api.base + "/h5/login") as page:
        csrf = next(c.split(";")[0].split("=", 1)[1] for c in page.headers.get_all("Set-Cookie")
                    if c.startswith("jifen_csrf="))
    form = urllib.parse.urlencode({"csrf": csrf, "invite_code": invite_code(api, household, committee)}).encode()
    request = urllib.request.Request(api.base + "/h5/login", data=form, method="POST")
    request.add_header("Cookie", f"jifen_csrf={csrf}")
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        opener.open(request)
    except urllib.error.HTTPError as redirected:
        session = next(c.split(";")[0] for c in redirected.headers.get_all("Set-Cookie")
                       if c.startswith("jifen_session="))
        return session
    sys.exit("the page sign-in did not redirect")


def wrk(url, script, connections, seconds, *args, run="r"):
    env = dict(os.environ, BENCH_WRK_DIR=os.path.join(HERE, "wrk"), BENCH_RUN=run)
    threads = min(connections, 2)
    out = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s",
                          "--timeout", "10s", "-s", os.path.join(HERE, "wrk", script), url, "--",
                          *[str(a) for a in args], str(threads)],
                         env=env, check=True, capture_output=True, text=True).stdout
    line = next(l for l in out.splitlines() if l.startswith("WRK "))
    result = json.loads(line[4:])
    # Answers that did what was asked, per second: a refusal is not a sale.
    result["rate"] = sum(n for status, n in result["statuses"].items() if status.startswith("2")) / result["seconds"]
    return result


def pgbench(url, clients, seconds, world, households, spread, script="shape.pgbench", defines=None):
    """`households` per village; the run pays with the first `spread` households' cards
    (`shape.pgbench`), or runs `script` with its own `defines`."""
    first = world["villages"][0]["id"]
    defines = defines or {"first_household": world["households"][0], "households": spread,
                          "first_village": first, "per_village": households, "first_card": 1,
                          "goods": world["goods"], "shop": world["shop"], "keeper": world["keeper_id"]}
    args = ["pgbench", "-n", "-M", "prepared", "-c", str(clients), "-j", str(min(clients, 2)),
            "-T", str(seconds), "-f", os.path.join(HERE, script), "-r"]
    for name, value in defines.items():
        args += ["-D", f"{name}={value}"]
    # Every transaction's latency logged (`-l`), for the reference's own p50 and p99.
    logs = tempfile.mkdtemp(prefix="jifen-pgbench-")
    args += ["-l", f"--log-prefix={logs}/tx"]
    ran = subprocess.run(args + [url], capture_output=True, text=True)
    if ran.returncode != 0:
        sys.exit(f"pgbench failed: {ran.stderr[-2000:]}")
    out = ran.stdout
    tps = next(l for l in out.splitlines() if l.startswith("tps"))
    latency = next(l for l in out.splitlines() if l.startswith("latency average"))
    micros = sorted(int(line.split()[2]) for name in os.listdir(logs)
                    for line in open(os.path.join(logs, name)))
    shutil.rmtree(logs, ignore_errors=True)
    at = lambda q: micros[min(len(micros) - 1, int(len(micros) * q))] / 1000 if micros else 0.0
    return {"rate": float(tps.split("=")[1].split()[0]), "avg_ms": float(latency.split("=")[1].split()[0]),
            "p50_ms": at(0.50), "p99_ms": at(0.99)}


SQLITE_SHAPE = [
    ("SELECT request_hash, status, body FROM idempotency_records WHERE scope = ? AND idem_key = ? LIMIT 1",
     lambda s: (f"Staff:{s['keeper']}", f"loop-{s['run']}-{s['n']}")),
    ("SAVEPOINT redemption", None),
    ("SELECT id, village_id, household_id, serial, pin_hash, failures, failure_day, day_failures, locked_until,"
     " held, revoked_at FROM household_cards WHERE id = ? LIMIT 1", lambda s: (s["card"],)),
    ("SELECT seq, hash FROM chain_heads WHERE village_id = ? LIMIT 1", lambda s: (s["village"],)),
    ("UPDATE goods SET stock = stock - 1, updated_at = ? WHERE id = ? AND shop_id = ? AND active AND stock >= 1"
     " RETURNING id, shop_id, name, unit, points_price, cost_yuan, stock, active",
     lambda s: (s["now"], s["goods"], s["shop"])),
    ("SELECT r.total_points FROM redemptions r WHERE r.card_id = ? AND r.created_at >= ? AND r.created_at < ?"
     " AND NOT EXISTS (SELECT 1 FROM redemption_voids v WHERE v.redemption_id = r.id)",
     lambda s: (s["card"], s["day"], s["tomorrow"])),
    ("UPDATE accounts SET balance = balance - 100, version = version + 1, updated_at = ? WHERE village_id = ?"
     " AND owner_kind = 'household' AND owner_id = ? AND asset = 'points' AND purpose = 'holdings'"
     " AND balance >= 100 RETURNING id, balance", lambda s: (s["now"], s["village"], s["household"])),
    ("UPDATE accounts SET balance = balance + 100, version = version + 1, updated_at = ? WHERE village_id = ?"
     " AND owner_kind = 'shop' AND owner_id = ? AND asset = 'points' AND purpose = 'receivable'"
     " RETURNING id, balance", lambda s: (s["now"], s["village"], s["shop"])),
    ("INSERT INTO ledger_transactions (village_id, seq, kind, memo, reverses_id, actor_kind, actor_id, created_at,"
     " prev_hash, hash, chain_version) VALUES (?, (SELECT seq + 1 FROM chain_heads WHERE village_id = ?),"
     " 'redemption', '大米 1袋', NULL, 'staff', ?, ?, 'prev', hex(randomblob(32)), 2) RETURNING id",
     lambda s: (s["village"], s["village"], s["keeper"], s["now"])),
    ("INSERT INTO postings (village_id, transaction_id, account_id, asset, amount, balance_after)"
     " VALUES (?, ?, 1, 'points', -100, 0), (?, ?, 1, 'points', 100, 0)",
     lambda s: (s["village"], s["tx"], s["village"], s["tx"])),
    ("INSERT INTO receipt_counters (shop_id, day, last_seq) VALUES (?, ?, 1) ON CONFLICT (shop_id, day)"
     " DO UPDATE SET last_seq = receipt_counters.last_seq + 1 RETURNING last_seq", lambda s: (s["shop"], s["date"])),
    ("INSERT INTO redemptions (shop_id, village_id, household_id, receipt_no, total_points, points_after,"
     " transaction_id, method, payment_code_id, card_id, proxy_name, keeper_id, created_at)"
     " VALUES (?, ?, ?, ?, 100, 0, ?, 'card', NULL, ?, NULL, ?, ?) RETURNING id",
     lambda s: (s["shop"], s["village"], s["household"], f"loop-{s['run']}-{s['tx']}", s["tx"], s["card"], s["keeper"],
                s["now"])),
    ("INSERT INTO redemption_lines (redemption_id, goods_id, name, unit, quantity, points_price, cost_yuan)"
     " VALUES (?, ?, '大米', '袋', 1, 100, 10)", lambda s: (s["redemption"], s["goods"])),
    ("INSERT INTO stock_movements (shop_id, goods_id, kind, delta, stock_after, reason, redemption_id,"
     " actor_kind, actor_id, created_at) VALUES (?, ?, 'redemption', -1, 0, 'loop', ?, 'staff', ?, ?)",
     lambda s: (s["shop"], s["goods"], s["redemption"], s["keeper"], s["now"])),
    ("INSERT INTO audit_events (village_id, actor_kind, actor_id, action, subject_kind, subject_id, detail, addr,"
     " created_at) VALUES (?, 'staff', ?, 'redeem', 'redemption', ?, '{}', '127.0.0.1', ?)",
     lambda s: (s["village"], s["keeper"], s["redemption"], s["now"])),
    ("RELEASE SAVEPOINT redemption", None),
    ("INSERT INTO idempotency_records (scope, idem_key, request_hash, status, body, created_at)"
     " VALUES (?, ?, 'x', 201, '{}', ?)", lambda s: (f"Staff:{s['keeper']}", f"loop-{s['run']}-{s['n']}", s["now"])),
]


def sqlite_loop(path, seconds, world, households, spread):
    """The statements of one card redemption, in a loop, as fast as one writer goes,
    paying with the first `spread` households' cards."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
    ids = world["households"][:spread]
    run = os.urandom(6).hex()
    started, n = time.monotonic(), 0
    while time.monotonic() - started < seconds:
        n += 1
        at = n % len(ids)
        now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
        state = {"run": run, "n": n, "keeper": world["keeper_id"], "card": at + 1, "household": ids[at],
                 "village": world["villages"][at // households]["id"], "goods": world["goods"],
                 "shop": world["shop"], "now": now.isoformat(" "), "day": (now - datetime.timedelta(hours=8)).isoformat(" "),
                 "tomorrow": (now + datetime.timedelta(hours=16)).isoformat(" "), "date": now.date().isoformat()}
        conn.execute("BEGIN IMMEDIATE")
        for sql, binds in SQLITE_SHAPE:
            rows = conn.execute(sql, binds(state) if binds else ()).fetchall()
            if sql.startswith("INSERT INTO ledger_transactions"):
                state["tx"] = rows[0][0]
            elif sql.startswith("INSERT INTO redemptions"):
                state["redemption"] = rows[0][0]
        conn.execute("COMMIT")
    rate = n / (time.monotonic() - started)
    conn.close()
    return {"rate": rate}


def hello_rate(binary, connections, seconds):
    port = free_port()
    server = subprocess.Popen([binary, f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/hello")
        return wrk(f"http://127.0.0.1:{port}/hello", "get.lua", connections, seconds, "")
    finally:
        server.kill()


def verify_rate(jifen):
    started = time.monotonic()
    out = jifen.command("verify")
    seconds = time.monotonic() - started
    return {"seconds": seconds, "output": out.stdout.strip().splitlines()[-1:] }


def run_backend(name, binary, hello, database_url, reference, args, results, peer=None):
    """Builds the world on a fresh database, then measures jifen and its references."""
    work = tempfile.mkdtemp(prefix=f"jifen-bench-{name}-")
    jifen = Jifen(binary, database_url(work), work)
    print(f"== {name}: building the world ({args.villages} villages × {args.households} households)", flush=True)
    jifen.start()
    try:
        measure(name, jifen, work, hello, reference, args, results, peer)
    finally:
        jifen.stop()
        shutil.rmtree(work, ignore_errors=True)


def mean_rate(results):
    rates = [r["rate"] for r in results]
    return sum(rates) / len(rates)


def wal_per_sale(reference, run):
    """The WAL bytes PostgreSQL wrote per redemption over `run` (None on SQLite): the
    database's own work per sale, which a noisy disk's fsync times do not move."""
    before = reference.wal_bytes()
    if before is None:
        return None
    result = run()
    return (reference.wal_bytes() - before) / max(result["statuses"].get("201", 0), 1)


def write_lines(work, name, lines):
    path = os.path.join(work, name)
    with open(path, "w") as f:
        f.write("\n".join(str(line) for line in lines) + "\n")
    return path


def measure(name, jifen, work, hello, reference, args, results, peer=None):
    world = build_world(jifen, args.villages, args.households)
    api, base, shop, goods = jifen.api, jifen.api.base, world["shop"], world["goods"]
    # Cards of all villages (the shop serves them all) or of the first alone, whose
    # chain then takes every sale; awards go to the first village, by its committee.
    spreads = {"many villages": (write_lines(work, "cards.txt", world["cards"]), len(world["households"])),
               "one village": (write_lines(work, "cards-one.txt", world["cards"][:args.households]),
                               args.households)}
    households_file = write_lines(work, "households.txt", world["households"][:args.households])
    figures, made = {}, {"redemptions": args.villages}

    def keeper():
        # A new sign-in for each run: access tokens last 15 minutes, a run far longer.
        return api.token("keeper")

    def redeem(script, path, clients, seconds, run, *more):
        result = wrk(base + "/", script, clients, seconds, path, shop, goods, keeper(), *more, run=run)
        made["redemptions"] += result["statuses"].get("201", 0)
        return result

    def cards(path, clients, seconds, run):
        return redeem("card_redeem.lua", path, clients, seconds, run)

    # The shop's first sale in a village opens its account there: the references update
    # accounts, never open them.
    for v in range(args.villages):
        token, pin = world["cards"][v * args.households].split(",")
        api.ok("POST", f"/api/v1/shops/{shop}/redemptions", keeper(),
               {"card_token": token, "pin": pin, "lines": [{"goods_id": goods, "quantity": 1}]}, key=f"warm-up-{v}")
    jifen.stop()
    snapshot = reference.snapshot(work)
    jifen.start()
    while made["redemptions"] < 1000:
        cards(spreads["many villages"][0], 16, 1, f"{name}-first-{made['redemptions']}")
    early_rss = {"redemptions": made["redemptions"], "mb": jifen.rss()}
    wal_early = wal_per_sale(reference, lambda: cards(spreads["many villages"][0], 1, 5, f"{name}-wal-early"))
    for clients in (1, 16):
        for round_ in range(args.rounds):
            for spread, (path, households) in spreads.items():
                j = cards(path, clients, args.seconds, f"{name}-{spread.replace(' ', '-')}-{clients}-{round_}")
                r = reference.run(snapshot, clients, args.seconds, world, args.households, households)
                figures.setdefault(f"card redemption, {spread}, {clients} client(s)", []).append((j, r))
                if peer and spread == "many villages":
                    p = wrk(peer.url(), "peer_exchange.lua", clients, args.seconds, peer.villagers)
                    figures.setdefault(f"card redemption against the peer's exchange, {clients} client(s)",
                                       []).append((j, p))
            # Codes are one-time: each villager shows one, each is paid once. The
            # reference is the card shape's, just run (the code's update takes the
            # place of the card's lock, and a code has no daily cap to read).
            codes = write_lines(work, "codes.txt", [v.payment_code() for v in world["villagers"]])
            expected = len(world["villagers"]) / max(j["rate"] / 2, 50)
            c = redeem("code_redeem.lua", codes, clients, min(45, int(expected) + 3), f"{name}-code-{clients}-{round_}",
                       clients)
            figures.setdefault(f"code redemption, many villages, {clients} client(s)", []).append((c, r))
        b = wrk(f"{base}/api/v1/households/{world['households'][0]}/balance", "get.lua", clients, args.seconds,
                world["villagers"][0].access())
        figures.setdefault(f"balance read, {clients} client(s)", []).append((b, hello_rate(hello, clients,
                                                                                             args.seconds)))
        bare = reference.balance(snapshot, clients, args.seconds, world, args.households)
        if bare:
            figures.setdefault(f"balance read against its bare statements, {clients} client(s)",
                               []).append((b, bare))
        home = wrk(f"{base}/h5/", "get.lua", clients, args.seconds, world["page_cookie"])
        figures.setdefault(f"/h5/ home, {clients} client(s)", []).append((home, hello_rate(hello, clients,
                                                                                          args.seconds)))
        a = wrk(base + "/", "award.lua", clients, args.seconds, households_file, world["villages"][0]["id"],
                world["villages"][0]["item"], api.token(world["villages"][0]["committee"]),
                run=f"{name}-award-{clients}")
        figures.setdefault(f"award, {clients} client(s)", []).append((a, None))
    # Growth: the rate after a long history against the rate early on, each the mean of
    # the rounds (one 10-second sample moves by a fifth with the disk's fsync times).
    early = figures["card redemption, many villages, 1 client(s)"]
    while made["redemptions"] < args.history:
        cards(spreads["many villages"][0], 16, 30, f"{name}-fill-{made['redemptions']}")
        print(f"   history: {made['redemptions']} redemptions", flush=True)
    done = made["redemptions"]
    late = [cards(spreads["many villages"][0], 1, args.seconds, f"{name}-late-{r}") for r in range(args.rounds)]
    late_rss = {"redemptions": done, "mb": jifen.rss()}
    wal_late = wal_per_sale(reference, lambda: cards(spreads["many villages"][0], 1, 5, f"{name}-wal-late"))
    jifen.stop()
    verify = verify_rate(jifen)
    # The reference on the same long history: what the database itself loses to it.
    reference.cleanup(snapshot)
    snapshot = reference.snapshot(work)
    reference_late = [reference.run(snapshot, 1, args.seconds, world, args.households, len(world["households"]))
                      for _ in range(args.rounds)]
    results[name] = {"figures": figures,
                     "growth": {"early": mean_rate(p[0] for p in early), "late": mean_rate(late), "history": done,
                                "reference_early": mean_rate(p[1] for p in early),
                                "reference_late": mean_rate(reference_late),
                                "wal_early": wal_early, "wal_late": wal_late},
                     "rss": {"early": early_rss, "late": late_rss}, "verify": verify}
    reference.cleanup(snapshot)

class SqliteReference:
    def wal_bytes(self):
        return None

    def balance(self, *_):
        # In-process reads have no bare reference that is not slower than jifen itself.
        return None

    def snapshot(self, work):
        copy = os.path.join(work, "reference.db")
        shutil.copy(os.path.join(work, "jifen.db"), copy)
        return copy

    def run(self, path, clients, seconds, world, households, spread):
        return sqlite_loop(path, seconds, world, households, spread)

    def cleanup(self, path):
        pass


class PgReference:
    def __init__(self, admin_url, database):
        self.admin_url, self.database = admin_url, database

    def psql(self, sql):
        subprocess.run(["psql", self.admin_url, "-qAt", "-c", sql], check=True, capture_output=True)

    def wal_bytes(self):
        # The cluster's whole WAL: the bench is all that writes while it runs.
        out = subprocess.run(["psql", self.admin_url, "-qAt", "-c", "SELECT wal_bytes FROM pg_stat_wal"],
                             check=True, capture_output=True, text=True).stdout
        return float(out.strip())

    def snapshot(self, work):
        self.psql(f"DROP DATABASE IF EXISTS {self.database}_ref")
        self.psql(f"CREATE DATABASE {self.database}_ref TEMPLATE {self.database}")
        url = self.admin_url.rsplit("/", 1)[0] + f"/{self.database}_ref"
        # A copy starts with no statistics gathered: plan it as jifen's database is planned.
        subprocess.run(["psql", url, "-qAt", "-c", "ANALYZE"], check=True, capture_output=True)
        return url

    def run(self, url, clients, seconds, world, households, spread):
        return pgbench(url, clients, seconds, world, households, spread)

    def balance(self, url, clients, seconds, world, households):
        defines = {"first_household": world["households"][0], "households": households,
                   "village": world["villages"][0]["id"]}
        return pgbench(url, clients, seconds, world, households, households, script="balance.pgbench",
                       defines=defines)

    def cleanup(self, url):
        self.psql(f"DROP DATABASE IF EXISTS {self.database}_ref")


def markdown(results):
    rows = ["| backend | figure | jifen /s | p50 ms | p99 ms | reference /s | its p99 ms | ratio |",
            "|---|---|---|---|---|---|---|---|"]
    for backend, result in results.items():
        for figure, pairs in result["figures"].items():
            j = max(pairs, key=lambda p: p[0]["rate"])[0]
            jifen_rate = sum(p[0]["rate"] for p in pairs) / len(pairs)
            refused = sum(n for p in pairs for status, n in p[0]["statuses"].items() if status not in ("200", "201"))
            note = f" ({refused} not 2xx)" if refused else ""
            if pairs[0][1] is None:
                rows.append(f"| {backend} | {figure}{note} | {jifen_rate:.0f} | {j['p50_ms']:.1f} | {j['p99_ms']:.1f} | | | |")
                continue
            ref = sum(p[1]["rate"] for p in pairs) / len(pairs)
            # The reference's p99 where it was measured (wrk and pgbench; the bare loop has none).
            tails = [p[1]["p99_ms"] for p in pairs if "p99_ms" in p[1]]
            tail = f"{max(tails):.1f}" if tails else ""
            rows.append(f"| {backend} | {figure}{note} | {jifen_rate:.0f} | {j['p50_ms']:.1f} | {j['p99_ms']:.1f} "
                        f"| {ref:.0f} | {tail} | {jifen_rate / ref:.3f} |")
        g = result["growth"]
        rows.append(f"| {backend} | growth after {g['history']} redemptions (1 client) | {g['late']:.0f} | | | "
                    f"{g['early']:.0f} (early) | | {g['late'] / g['early']:.3f} |")
        rows.append(f"| {backend} | the reference's growth on the same history | {g['reference_late']:.0f} | | | "
                    f"{g['reference_early']:.0f} (early) | | {g['reference_late'] / g['reference_early']:.3f} |")
        if g.get("wal_early"):
            rows.append(f"| {backend} | WAL per redemption after {g['history']} redemptions | {g['wal_late']:.0f} B | | | "
                        f"{g['wal_early']:.0f} B (early) | | {g['wal_late'] / g['wal_early']:.3f} |")
        rss = result["rss"]
        rows.append(f"| {backend} | RSS after {rss['late']['redemptions']} redemptions | {rss['late']['mb']:.0f} MB | | | "
                    f"{rss['early']['mb']:.0f} MB after {rss['early']['redemptions']} | "
                    f"| {rss['late']['mb'] / rss['early']['mb']:.2f} |")
        rows.append(f"| {backend} | verify | {result['verify']['seconds']:.2f} s | | | | | |")
    return "\n".join(rows)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--jifen", default="target/release/jifen")
    parser.add_argument("--hello", required=True)
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL"))
    parser.add_argument("--villages", type=int, default=4)
    parser.add_argument("--households", type=int, default=250)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--history", type=int, default=100_000)
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    parser.add_argument("--peer", help="a checkout or bare clone of luoyu-points (peer.py)")
    args = parser.parse_args()
    results = {}
    if args.only in (None, "sqlite"):
        peer = Peer(args.peer, args.villages * args.households) if args.peer else None
        if peer:
            peer.start()
        try:
            run_backend("SQLite", args.jifen, args.hello, lambda work: f"sqlite://{work}/jifen.db",
                        SqliteReference(), args, results, peer)
        finally:
            if peer:
                peer.stop()
    if args.only in (None, "postgres") and args.pg_url:
        admin_url = args.pg_url
        database = "jifen_bench"
        reference = PgReference(admin_url, database)
        reference.psql(f"DROP DATABASE IF EXISTS {database}")
        reference.psql(f"CREATE DATABASE {database}")
        run_backend("PostgreSQL", args.jifen, args.hello, lambda work: admin_url.rsplit("/", 1)[0] + f"/{database}",
                    reference, args, results)
    out = os.path.join(HERE, "results")
    os.makedirs(out, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    with open(os.path.join(out, f"{stamp}.json"), "w") as f:
        json.dump(results, f, indent=1, default=str)
    table = markdown(results)
    print(table)
    with open(os.path.join(out, f"{stamp}.md"), "w") as f:
        f.write(table + "\n")


if __name__ == "__main__":
    main()
