"""Schemathesis hooks for scripts/schemathesis.sh (T16 in RELIABILITY.md).

The OpenAPI document (server/src/api/openapi.json) describes each value on its own. A few rules of
the API tie values together or depend on the clock and on earlier requests, which JSON Schema
cannot say. Generated requests that Schemathesis means as *valid* ("positive") are brought within
those rules here, so that the check "valid data is accepted" judges the server and not the
document's limits. Requests meant as invalid ("negative") are left as generated: they must still
be refused with a 4xx. Each rule below is also stated in the document's descriptions and in
docs/API.md:

- `start` must come before `end` (list, statistics, export, live tail);
- a `cursor` is opaque: only cursors the server issued, for the same `sort`, are accepted;
- `occurred_at` may lie at most 5 minutes in the future;
- an `Idempotency-Key` reused with another body is a 422 (so each valid request gets its own);
- strings are limited in UTF-8 bytes, which JSON Schema's `maxLength` (characters) cannot say;
- a server export's `view` is a query string with a `start` (any text Schemathesis makes up is
  sent as the view's `event` instead);
- a view's time range may span at most `--export-max-days` (the script raises it for this run).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
import urllib.parse
import uuid
from datetime import datetime

import schemathesis

FUTURE_SKEW_MS = 5 * 60 * 1000
STRING_BYTES = 1024
DESCRIPTION_BYTES = 4096
OBJECT_BYTES = 16 * 1024


def _positive(case) -> bool:
    meta = getattr(case, "meta", None)
    return meta is not None and meta.generation.mode.is_positive


def _time_ms(value: str) -> int | None:
    if re.fullmatch(r"[0-9]+", value):
        return int(value)
    try:
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return None


def _cursor(sort: str, seed: str) -> str:
    """A cursor as the server issues them (`app::events::query::Cursor::encode`), for `sort`."""
    key, direction = (sort[1:], "desc") if sort.startswith("-") else (sort, "asc")
    digest = hashlib.sha256(seed.encode("utf-8", "surrogatepass")).digest()
    event_id = int.from_bytes(digest[:8], "big") >> (1 + digest[8] % 63)
    if key in ("time", "seq"):
        value = str(int.from_bytes(digest[9:17], "big", signed=True) >> (digest[17] % 63))
    else:
        value = seed
    raw = f"v2:{key}:{direction}:{event_id}:{value}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _fit_query(case) -> None:
    query = case.query
    if not isinstance(query, dict):
        return
    start, end = query.get("start"), query.get("end")
    if isinstance(start, str) and isinstance(end, str):
        s, e = _time_ms(start), _time_ms(end)
        if s is not None and e is not None and s >= e:
            del query["end"]
    cursor = query.get("cursor")
    if isinstance(cursor, str):
        query["cursor"] = _cursor(query.get("sort") or "-time", cursor)


def _clip(text: str, limit: int) -> str:
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[:limit].decode("utf-8", "ignore")


def _fit_event(event) -> None:
    if not isinstance(event, dict):
        return
    at = event.get("occurred_at")
    now = int(time.time() * 1000)
    if isinstance(at, (int, float)) and not isinstance(at, bool) and at > now + FUTURE_SKEW_MS:
        event["occurred_at"] = at % now
    elif isinstance(at, str):
        ms = _time_ms(at)
        if ms is not None and ms > now + FUTURE_SKEW_MS:
            event["occurred_at"] = ms % now
    for key, value in list(event.items()):
        if isinstance(value, str):
            event[key] = _clip(value, DESCRIPTION_BYTES if key == "description" else STRING_BYTES)
        elif key in ("actor", "target") and isinstance(value, dict):
            for k, v in list(value.items()):
                if isinstance(v, str):
                    value[k] = _clip(v, STRING_BYTES)
        elif key in ("metadata", "changes") and isinstance(value, dict):
            while value and len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()) > OBJECT_BYTES:
                value.pop(next(iter(value)))


@schemathesis.hook
def map_case(context, case):
    if not _positive(case):
        return case
    label = f"{case.method.upper()} {case.path}"
    if case.method.upper() == "GET":
        _fit_query(case)
    elif label == "POST /exports" and isinstance(case.body, dict) and isinstance(case.body.get("view"), str):
        text = case.body["view"].replace("\x00", "")
        case.body["view"] = f"start={len(text)}&event={urllib.parse.quote(text, safe='')}"
    elif label == "POST /events":
        body = case.body
        for event in body if isinstance(body, list) else [body]:
            _fit_event(event)
        if case.headers and "Idempotency-Key" in case.headers:
            case.headers["Idempotency-Key"] = f"{uuid.uuid4().hex}-{case.headers['Idempotency-Key'][:200]}"
    return case
