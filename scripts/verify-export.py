#!/usr/bin/env python3
"""Checks an NDJSON export of Audit Logs offline, against the signed checkpoints.

An independent implementation of the chain encoding documented in app/src/store/chain.rs (it
shares no code with the server), for a reviewer who holds only files:

    auditlog checkpoints export > checkpoints.json          # on the server, with the public key
    curl -H "Authorization: Bearer $KEY" \\
      "$URL/api/v1/events/export?format=ndjson&start=0" > all.ndjson
    scripts/verify-export.py all.ndjson checkpoints.json --public-key <hex the owner gave you>
    scripts/verify-export.py all.ndjson checkpoints.json --subset filtered.ndjson

What it checks:
- every checkpoint's Ed25519 signature, and that each was made with the expected public key
  (`--public-key`; without it, the key the checkpoints file names, which proves less);
- that the export holds consecutive events (no id missing) from an anchor: the first event ever
  (id 1, chained from 32 zero bytes) or the event just after a checkpoint (a retention purge
  leaves one at the newest removed event);
- the chain recomputed over every event equals each checkpoint that falls inside the export;
  the events up to the newest such checkpoint are then exactly what was signed;
- with `--subset`, that every event of another export (a filtered one) is, field for field as
  chained, the event with its id in the verified range.

Exit status 0 when all holds, 1 with the first failure named otherwise, 2 for unusable input.
"""

import argparse
import datetime
import hashlib
import json
import struct
import sys

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
except ImportError:  # pragma: no cover - depends on the machine
    sys.exit("verify-export: needs the Python package `cryptography` (pip install cryptography)")

DOMAIN = b"auditlog.event.v1\x00"
GENESIS = bytes(32)


class Raw(str):
    """A JSON number kept as the text it was written as, so that it is re-encoded unchanged."""


def json_text(value):
    """Compact JSON with object keys in ascending order, numbers exactly as read: the form the
    store keeps metadata and changes in (what the export wrote, re-serialized)."""
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda kv: kv[0].encode("utf-8"))
        return "{" + ",".join(json_text(k) + ":" + json_text(v) for k, v in items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(json_text(v) for v in value) + "]"
    if isinstance(value, Raw):
        return str(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    return json.dumps(value, ensure_ascii=False)


def millis(text):
    """Epoch milliseconds of an RFC 3339 time as the export writes it."""
    t = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    delta = t - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def fields(e):
    """The chained fields of one exported event: three integers and 17 texts (None when absent)."""
    actor = e.get("actor") or {}
    target = e.get("target") or {}
    changes = e.get("changes")
    texts = [
        e["event"], e["category"], e["action"], e["outcome"],
        actor.get("id"), actor.get("name"), actor.get("type"), actor.get("email"),
        target.get("type"), target.get("id"), target.get("name"),
        e.get("ip"), e.get("user_agent"), e.get("source"), e.get("description"),
        json_text(e.get("metadata", {})),
        None if changes is None else json_text(changes),
    ]
    return e["id"], millis(e["occurred_at"]), millis(e["received_at"]), texts


def encoding(f):
    ident, occurred, received, texts = f
    out = bytearray(DOMAIN)
    out += struct.pack(">qqq", ident, occurred, received)
    for t in texts:
        if t is None:
            out.append(0)
        else:
            b = t.encode("utf-8")
            out.append(1)
            out += struct.pack(">I", len(b))
            out += b
    return bytes(out)


def read_export(path):
    events = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                e = json.loads(line, parse_float=Raw, parse_int=Raw)
                e["id"] = int(e["id"])
                events[e["id"]] = fields(e)
            except (ValueError, KeyError, TypeError) as err:
                sys.exit(f"verify-export: {path} line {n} is not an exported event: {err}")
    return events


def checkpoint_message(cp):
    return (
        "auditlog.checkpoint.v1\n"
        f"event_id={cp['event_id']}\nchain={cp['chain']}\nkind={cp['kind']}\n"
        f"created_at={cp['created_at']}\n"
    ).encode()


def read_checkpoints(path, expected_key):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    if doc.get("format") != "auditlog.checkpoints.v1":
        sys.exit(f"verify-export: {path} is not an `auditlog checkpoints export` file")
    key = (expected_key or doc.get("public_key") or "").lower()
    if not key:
        sys.exit("verify-export: no public key: pass --public-key")
    good = {}
    for cp in doc["checkpoints"]:
        if cp["public_key"].lower() != key:
            fail(f"checkpoint #{cp['id']} (after event #{cp['event_id']}) is signed by another key "
                 f"({cp['public_key'][:16]}…, expected {key[:16]}…)")
        try:
            Ed25519PublicKey.from_public_bytes(bytes.fromhex(key)).verify(
                bytes.fromhex(cp["signature"]), checkpoint_message(cp))
        except (InvalidSignature, ValueError):
            fail(f"checkpoint #{cp['id']} (after event #{cp['event_id']}): bad signature")
        good[cp["event_id"]] = cp
    return key, good


def fail(message):
    print(f"FAILED: {message}")
    sys.exit(1)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("export", help="NDJSON export holding consecutive events (e.g. All Time)")
    p.add_argument("checkpoints", help="the output of `auditlog checkpoints export`")
    p.add_argument("--public-key", help="the signing key's public half, hex, obtained separately")
    p.add_argument("--subset", action="append", default=[],
                   help="another export (e.g. filtered) whose events must be in the verified one")
    args = p.parse_args()

    key, checkpoints = read_checkpoints(args.checkpoints, args.public_key)
    events = read_export(args.export)
    if not events:
        sys.exit("verify-export: the export holds no events")
    first, last = min(events), max(events)
    for ident in range(first, last + 1):
        if ident not in events:
            fail(f"event #{ident} is missing (the export runs from #{first} to #{last})")

    if first == 1:
        chain, anchor = GENESIS, "the first event"
    elif first - 1 in checkpoints:
        cp = checkpoints[first - 1]
        chain, anchor = bytes.fromhex(cp["chain"]), f"checkpoint #{cp['id']} (after event #{first - 1})"
    else:
        fail(f"nothing anchors event #{first}: export from the oldest event, or from just after "
             "a checkpoint")

    signed_through, matched = None, 0
    previous_match = first - 1
    for ident in range(first, last + 1):
        chain = hashlib.sha256(chain + encoding(events[ident])).digest()
        cp = checkpoints.get(ident)
        if cp is None:
            continue
        if chain.hex() != cp["chain"].lower():
            fail(f"the chain differs from checkpoint #{cp['id']} after event #{ident}: an event "
                 f"from #{previous_match + 1} to #{ident} was changed, removed or inserted")
        signed_through, previous_match, matched = ident, ident, matched + 1

    if signed_through is None:
        fail(f"no checkpoint falls inside the export (#{first} to #{last}): nothing is signed")
    for path in args.subset:
        for ident, f in sorted(read_export(path).items()):
            if ident not in events or ident > signed_through:
                fail(f"{path}: event #{ident} is outside the verified range #{first} to "
                     f"#{signed_through}")
            if encoding(f) != encoding(events[ident]):
                fail(f"{path}: event #{ident} differs from the verified export")
        print(f"{path}: every event is in the verified range, unchanged.")
    print(f"Verified events #{first} to #{signed_through} from {anchor} against {matched} "
          f"signed checkpoint(s), key {key[:16]}….")
    if last > signed_through:
        print(f"Events #{signed_through + 1} to #{last} follow the newest checkpoint: chained "
              "together, but not yet signed.")


if __name__ == "__main__":
    main()
