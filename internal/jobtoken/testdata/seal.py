#!/usr/bin/env python3
"""Seal version 2 of the zeebe-lambda-bridge contract in Python's standard
library: a reference for implementers and a test of docs/contract.md, not a
library. Reads seal-vectors.json, prints one JSON line per vector:
{"name", "canonicalV2", "sealV2", "sealed"}, sealed being the outcome message
with token, sealVersion and mac, ready for the fulfiller. A vector that cannot
be sealed prints empty strings and sealed null.

Usage: python3 seal.py seal-vectors.json
"""
import base64
import hashlib
import hmac
import json
import math
import re
import sys

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _reject_constant(name):
    raise ValueError(f"{name} is not JSON")


def parse(text):
    # json keeps integer literals as exact ints and reads the others as
    # doubles: just the distinction seal version 2 makes.
    return json.loads(text, parse_constant=_reject_constant)


def es6_number(x):
    """ECMAScript Number::toString of a finite, non-integral double."""
    r = repr(abs(x))  # the shortest digits that read back as x
    mant, _, exp = r.partition("e")
    whole, _, frac = mant.partition(".")
    digits = (whole + frac).lstrip("0")
    n = len(whole) + int(exp or 0) - (len(whole + frac) - len(digits))
    digits = digits.rstrip("0")
    k = len(digits)
    if k <= n <= 21:
        out = digits + "0" * (n - k)
    elif 0 < n <= 21:
        out = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        out = "0." + "0" * -n + digits
    else:
        e = n - 1
        out = digits[0] + ("." + digits[1:] if k > 1 else "") + "e" + ("+" if e >= 0 else "-") + str(abs(e))
    return "-" + out if x < 0 else out


def number(x):
    if isinstance(x, int):
        return str(x)  # exact, however large
    if not math.isfinite(x):
        raise ValueError("number out of range")
    if x.is_integer():
        return str(int(x))  # the double's exact integer value
    return es6_number(x)


def string(s):
    # Escapes as JSON.stringify does: '"', '\\' and control characters only.
    return json.dumps(_LONE_SURROGATE.sub("\ufffd", s), ensure_ascii=False)


def canonical(v):
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, (int, float)):
        return number(v)
    if isinstance(v, str):
        return string(v)
    if isinstance(v, list):
        return "[" + ",".join(canonical(e) for e in v) + "]"
    if isinstance(v, dict):
        items = {_LONE_SURROGATE.sub("\ufffd", k): e for k, e in v.items()}
        # RFC 8785 orders keys by UTF-16 code units.
        keys = sorted(items, key=lambda k: k.encode("utf-16-be"))
        return "{" + ",".join(string(k) + ":" + canonical(items[k]) for k in keys) + "}"
    raise TypeError(type(v))


def canonical_outcome(msg):
    """The content a version 2 seal covers: every field, zero values included."""
    return canonical({
        "sealVersion": 2,
        "jobKey": msg["jobKey"],
        "outcome": msg["outcome"],
        "variables": msg.get("variables"),
        "errorCode": msg.get("errorCode", ""),
        "errorMessage": msg.get("errorMessage", ""),
        "retries": msg.get("retries", 0),
        "retryBackoffMs": msg.get("retryBackoffMs", 0),
        "async": msg.get("async", False),
        "deadline": msg.get("deadline", 0),
        "timeoutMs": msg.get("timeoutMs", 0),
    })


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def seal(sig, content):
    mac = hmac.new(b64url_decode(sig), content.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")


def main(path):
    with open(path, encoding="utf-8") as f:
        vectors = json.load(f)["vectors"]
    for v in vectors:
        out = {"name": v["name"], "canonicalV2": "", "sealV2": "", "sealed": None}
        msg = parse(v["message"])
        try:
            content = canonical_outcome(msg)
        except ValueError:
            print(json.dumps(out))
            continue
        out["canonicalV2"], out["sealV2"] = content, seal(v["token"]["sig"], content)
        msg.update(token=v["token"], sealVersion=2, mac=out["sealV2"])
        out["sealed"] = json.dumps(msg)
        print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
