"""The peer: luoyu-points (Node.js, MySQL), the open-source scheme a village would
otherwise deploy, run from its public repository beside jifen (issue 13: jifen's card
redemption on the embedded default is to do three times its exchange rate).

Optional: `bench/run --peer PATH`, PATH a checkout or a bare clone of
https://github.com/luoyucun/luoyu-points. Its tree is exported, served by `node app.js`
(its dependencies by `npm ci`, as its lock file says) against a private
MariaDB instance with the server's defaults (`innodb_flush_log_at_trx_commit = 1`: a
flush per commit, as jifen's `synchronous = FULL`), its `schema.sql`, the exchange window
open, villagers with points enough and goods with stock enough that no exchange is
refused (its unguarded `UPDATE`s are not what is measured)."""

import os
import shutil
import subprocess
import tempfile
import time
import urllib.request

STOCK = 4_000_000_000  # its stock is unsigned: a race below zero is an error there


def _free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Peer:
    def __init__(self, repo, villagers):
        self.repo, self.villagers = repo, villagers
        self.work = tempfile.mkdtemp(prefix="jifen-bench-peer-")
        self.app_dir = os.path.join(self.work, "app")
        self.data_dir = os.path.join(self.work, "mysql")
        self.socket = os.path.join(self.work, "mysql.sock")
        self.db_port, self.port = _free_port(), _free_port()
        self.mysqld = self.node = None

    def start(self):
        os.makedirs(self.app_dir)
        archive = subprocess.run(["git", "-C", self.repo, "archive", "HEAD"], check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", self.app_dir], input=archive, check=True)
        # Its committed node_modules lack some of its dependencies: install them as locked,
        # from the public registry (its lock file names a mirror).
        subprocess.run(["npm", "ci", "--omit=dev", "--no-audit", "--no-fund", "--replace-registry-host=always",
                        "--registry=https://registry.npmjs.org/"], cwd=self.app_dir, check=True, capture_output=True)
        self._start_database()
        # A dump's tail without its head: tables in name order (foreign keys checked once
        # all exist), and the session settings it restores were never saved.
        schema = open(os.path.join(self.app_dir, "schema.sql"), encoding="utf-8").read()
        schema = "\n".join(line for line in schema.splitlines() if "@OLD_" not in line)
        self._mysql("SET FOREIGN_KEY_CHECKS = 0;\n" + schema, database="luoyu")
        rows = ",".join(f"({v}, '村民{v}', '男', '第一组', '0000', 2000000000)" for v in range(1, self.villagers + 1))
        self._mysql(f"""
            INSERT INTO villagers (id, name, gender, group_no, id_last4, total_score) VALUES {rows};
            INSERT INTO goods (id, name, points_cost, stock) VALUES (1, '大米', 1, {STOCK});
            REPLACE INTO system_config (cfg_key, cfg_value) VALUES ('exchange_open', '1');""", database="luoyu")
        env = dict(os.environ, PORT=str(self.port), DB_HOST="127.0.0.1", DB_PORT=str(self.db_port),
                   DB_NAME="luoyu", DB_USER="root", DB_PASS="", JWT_SECRET="bench")
        # dotenv does not override what the environment already says.
        self.node = subprocess.Popen(["node", "app.js"], cwd=self.app_dir, env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._wait(f"http://127.0.0.1:{self.port}/health")

    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def _start_database(self):
        user = ["--user=mysql"] if os.geteuid() == 0 else []
        if user:
            shutil.chown(self.work, "mysql")
        subprocess.run(["mariadb-install-db", f"--datadir={self.data_dir}", "--auth-root-authentication-method=normal",
                        "--skip-test-db", *user], check=True, capture_output=True)
        self.mysqld = subprocess.Popen(["mariadbd", "--no-defaults", f"--datadir={self.data_dir}",
                                        f"--socket={self.socket}", f"--port={self.db_port}",
                                        "--bind-address=127.0.0.1", "--skip-log-bin", *user],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while subprocess.run(["mariadb", f"--socket={self.socket}", "-uroot", "-e", "SELECT 1"],
                             capture_output=True).returncode != 0:
            if time.monotonic() > deadline:
                raise SystemExit("the peer's MariaDB did not start")
            time.sleep(0.2)
        self._mysql("CREATE DATABASE luoyu CHARACTER SET utf8mb4")

    def _mysql(self, sql, database=None):
        subprocess.run(["mariadb", f"--socket={self.socket}", "-uroot", *([database] if database else [])],
                       input=sql.encode(), check=True, stdout=subprocess.DEVNULL)

    def _wait(self, url):
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(url, timeout=1)
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("the peer did not start")
                time.sleep(0.2)

    def stop(self):
        for process in (self.node, self.mysqld):
            if process:
                process.terminate()
                process.wait(timeout=30)
        shutil.rmtree(self.work, ignore_errors=True)
