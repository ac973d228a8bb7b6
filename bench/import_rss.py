#!/usr/bin/env python3
"""RSS of a jifen server while it refuses an oversized household import.

    python3 bench/import_rss.py target/release/jifen [--rows 838850]

Uploads a CSV of ROWS one-column rows (under the 5 MB upload limit) to the household
import and reports the answer and the server's RSS before and after.
"""
import argparse
import json
import time
import urllib.error
import urllib.request
import uuid

from jifen_bench import ADMIN_PASSWORD, rss_mb, serving


def call(base, method, path, token=None, body=None, raw=None, content_type="application/json"):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(f"{base}{path}", data=data, method=method)
    request.add_header("Content-Type", content_type)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=120) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("--rows", type=int, default=838850)
    args = parser.parse_args()
    with serving(args.binary) as (base, server):
        _, login = call(base, "POST", "/api/v1/auth/login", body={"username": "admin", "password": ADMIN_PASSWORD})
        token = login["access_token"]
        _, village = call(base, "POST", "/api/v1/villages", token, {"code": "qingle", "name": "庆乐村"})
        call(base, "POST", "/api/v1/staff", token, {"username": "committee", "password": ADMIN_PASSWORD,
             "name": "村委", "roles": [{"role": "committee", "scope_id": village["id"]}]})
        _, login = call(base, "POST", "/api/v1/auth/login", body={"username": "committee", "password": ADMIN_PASSWORD})
        token = login["access_token"]
        boundary = uuid.uuid4().hex
        csv = "门牌号\n" + "1\n" * args.rows
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"h.csv\"\r\n"
                f"Content-Type: text/csv\r\n\r\n{csv}\r\n--{boundary}--\r\n").encode()
        time.sleep(0.5)
        before = rss_mb(server.pid)
        status, answer = call(base, "POST", f"/api/v1/villages/{village['id']}/households/import", token,
                              raw=body, content_type=f"multipart/form-data; boundary={boundary}")
        after = rss_mb(server.pid)
        print(json.dumps({"rows": args.rows, "upload_mb": round(len(body) / 1e6, 1), "status": status,
                          "message": ((answer or {}).get("errors") or [answer or {}])[0].get("message") or (answer or {}).get("detail"),
                          "rss_before_mb": round(before, 1), "rss_after_mb": round(after, 1)}, ensure_ascii=False))


if __name__ == "__main__":
    main()
