"""What the bench scripts share: a jifen binary on a fresh SQLite database with a
township admin, and the RSS of its process."""
import contextlib
import os
import socket
import subprocess
import tempfile
import time
import urllib.request

ADMIN_PASSWORD = "correct-horse-42"


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def wait_until_up(url, tries=300):
    """Polls `url` until it answers; False if it never does."""
    for _ in range(tries):
        try:
            urllib.request.urlopen(url, timeout=1)
            return True
        except OSError:
            time.sleep(0.05)
    return False


@contextlib.contextmanager
def serving(binary, **settings):
    """Migrates, bootstraps `admin` and serves; yields (base URL, server process)."""
    work = tempfile.mkdtemp()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, JIFEN_DATABASE_URL=f"sqlite://{work}/jifen.db",
               JIFEN_BIND=f"127.0.0.1:{port}", JIFEN_DATA_DIR=work, JIFEN_LOG="error",
               **settings)
    quiet = dict(env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([binary, "migrate"], **quiet)
    subprocess.run([binary, "bootstrap", "--username", "admin", "--password", ADMIN_PASSWORD], **quiet)
    server = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/healthz")
        yield base, server
    finally:
        server.kill()
