"""The contract from outside: a client generated from openapi/openapi.json by a generator
nobody here wrote (openapi-python-client) signs in, awards and redeems against a running
jifen; then schemathesis fuzzes the served document as the committee, a shopkeeper and a
villager, every check on, within a fixed time budget.

    python tests/contract/contract.py TARGET/debug/jifen SECONDS_PER_ROLE

Run by tests/contract/run, which prepares the Python environment.
"""

import datetime
import importlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DOCUMENT = ROOT / "openapi" / "openapi.json"


def main() -> int:
    binary, budget = Path(sys.argv[1]).resolve(), int(sys.argv[2])
    work = Path(tempfile.mkdtemp(prefix="jifen-contract-"))
    client_dir = work / "generated"
    generate_client(client_dir)
    sys.path.insert(0, str(client_dir))
    with Server(binary, work) as server:
        tokens = client_round_trip(server.base, server.credentials())
        failed = [
            role for role, token in tokens.items() if not fuzz(server.base, role, token, budget, work)
        ]
    if failed:
        print(f"contract: the fuzz found problems as {', '.join(failed)} (see above)")
        return 1
    shutil.rmtree(work, ignore_errors=True)
    print("contract: generated client and fuzz agree with the document")
    return 0


def generate_client(target: Path) -> None:
    # Binary answers (photos, the XLSX statement) are read as bytes, which is how this
    # generator spells any binary media type.
    config = target.parent / "client.yaml"
    config.write_text(
        "package_name_override: jifen_client\n"
        "content_type_overrides:\n"
        "  image/jpeg: application/octet-stream\n"
        "  image/png: application/octet-stream\n"
        "  image/webp: application/octet-stream\n"
        "  application/vnd.openxmlformats-officedocument.spreadsheetml.sheet: application/octet-stream\n"
    )
    run(
        "openapi-python-client", "generate", "--path", str(DOCUMENT), "--meta", "none",
        "--output-path", str(target / "jifen_client"), "--config", str(config),
        "--fail-on-warning",
    )


class Server:
    """The real binary with its demo township, on a free port, in its own directory."""

    def __init__(self, binary: Path, work: Path):
        self.binary, self.dir = binary, work / "server"
        self.dir.mkdir()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        env = dict(os.environ, JIFEN_BIND=f"127.0.0.1:{self.port}", JIFEN_LOG="warn")
        self.log = open(self.dir / "server.log", "wb")
        self.process = subprocess.Popen(
            [str(self.binary)], cwd=self.dir, env=env, stdout=self.log, stderr=self.log
        )
        deadline = time.monotonic() + 120  # the debug build seeds three months of history
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.base}/readyz", timeout=2):
                    return self
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.2)
        raise SystemExit(f"jifen did not become ready; log in {self.dir / 'server.log'}")

    def __exit__(self, *_):
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()

    def credentials(self) -> dict[str, str]:
        lines = (self.dir / "data" / "demo-credentials.txt").read_text().splitlines()
        pairs = (line.split() for line in lines)
        return {p[0]: p[1] for p in pairs if len(p) >= 2 and "-" in p[0]}


def client_round_trip(base: str, credentials: dict[str, str]):
    """Sign-in, an award and a redemption, through the generated client only."""
    jc = importlib.import_module("jifen_client")
    from jifen_client.api.auth import get_me, login, sign_in_with_invite
    from jifen_client.api.checklist import list_checklist
    from jifen_client.api.claims import award_households
    from jifen_client.api.ledger import get_balance
    from jifen_client.api.organisation import (
        create_invite, list_households, list_members, patch_village,
    )
    from jifen_client.api.shop import issue_payment_code, list_goods, redeem_goods
    from jifen_client import models

    def signed_in(tokens) -> "jc.AuthenticatedClient":
        expect(isinstance(tokens, models.TokenPair), f"sign-in failed: {tokens}")
        return jc.AuthenticatedClient(base_url=base, token=tokens.access_token)

    anonymous = jc.Client(base_url=base)
    committee = signed_in(login.sync(client=anonymous, body=models.LoginRequest(
        username="nahong-committee", password=credentials["nahong-committee"])))
    village_id = get_me.sync(client=committee).roles[0].scope_id

    # With no public notice an award posts at once, so the redemption can spend it.
    village = patch_village.sync(
        village_id, client=committee,
        body=models.PatchVillage(policy=models.PolicyPatch(notice_days=0)),
    )
    expect(isinstance(village, models.VillageView), f"policy change failed: {village}")
    items = list_checklist.sync(village_id, client=committee).items
    item = next(i for i in items if float(i.points) > 0 and i.cap_count is None)
    household = list_households.sync(village_id, client=committee).items[0]
    start = get_balance.sync(household.id, client=committee)
    award = award_households.sync(
        village_id,
        client=committee,
        body=models.AwardRequest(
            item_id=item.id,
            household_ids=[household.id],
            quantity=10,
            occurred_on=datetime.date.today(),
            note="contract check",
        ),
        idempotency_key=str(uuid.uuid4()),
    )
    expect(isinstance(award, models.AwardResult), f"award failed: {award}")
    print(f"contract: awarded {item.title} ×10 ({item.points} each) to household {household.id}")

    head = next(m for m in list_members.sync(household.id, client=committee).items)
    invite = create_invite.sync(
        household.id, client=committee, body=models.CreateInvite(member_id=head.id)
    )
    villager = signed_in(sign_in_with_invite.sync(
        client=anonymous, body=models.InviteRequest(invite_code=invite.invite_code)))
    before = get_balance.sync(household.id, client=villager)
    expect(
        abs(float(before.points) - float(start.points) - 10 * float(item.points)) < 0.005,
        f"balance {before.points} after the award, was {start.points}",
    )
    code = issue_payment_code.sync(household.id, client=villager)
    expect(isinstance(code, models.PaymentCodeView), f"payment code failed: {code}")

    shopkeeper = signed_in(login.sync(client=anonymous, body=models.LoginRequest(
        username="nahong-shop", password=credentials["nahong-shop"])))
    shop_id = get_me.sync(client=shopkeeper).roles[0].scope_id
    goods = min(
        (g for g in list_goods.sync(shop_id, client=shopkeeper).items if g.active and g.stock > 0),
        key=lambda g: float(g.points_price),
    )
    expect(float(goods.points_price) <= float(before.points), "the award buys nothing")
    receipt = redeem_goods.sync(
        shop_id,
        client=shopkeeper,
        body=models.RedeemRequest(
            code=code.code, lines=[models.LineRequest(goods_id=goods.id, quantity=1)]
        ),
        idempotency_key=str(uuid.uuid4()),
    )
    expect(isinstance(receipt, models.ReceiptView), f"redemption failed: {receipt}")
    expected = float(before.points) - float(goods.points_price)
    expect(
        abs(float(receipt.points_after) - expected) < 0.005,
        f"points after {receipt.points_after}, expected {expected:.2f}",
    )
    print(f"contract: redeemed {goods.name}, receipt {receipt.receipt_no}, "
          f"{before.points} → {receipt.points_after}")

    # The committee goes last: its fuzz may sign the villager out or close the household.
    tokens = {
        "villager": villager.token,
        "shopkeeper": shopkeeper.token,
        "committee": committee.token,
    }
    return tokens


def fuzz(base, role, token, budget, work) -> bool:
    print(f"contract: fuzzing as {role} for up to {budget} s", flush=True)
    result = subprocess.run(
        [
            "schemathesis", "--no-color", "--config-file", str(HERE / "schemathesis.toml"),
            "run", f"{base}/api-docs/openapi.json", "--checks", "all",
            "--header", f"Authorization: Bearer {token}",
            "--max-time", str(budget),
            # A fixed seed keeps CI repeatable; FUZZ_SEED explores elsewhere.
            "--seed", os.environ.get("FUZZ_SEED", "20261201"),
            "--report", "junit", "--report-junit-path", str(work / f"fuzz-{role}.xml"),
        ],
        cwd=work,  # schemathesis keeps its cache in the working directory
    )
    return result.returncode == 0


def run(*command: str) -> None:
    subprocess.run(command, check=True)


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise SystemExit(f"contract: {message}")


if __name__ == "__main__":
    sys.exit(main())
