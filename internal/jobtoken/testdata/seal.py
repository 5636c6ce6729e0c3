#!/usr/bin/env python3
"""The seal of the zeebe-lambda-bridge contract in Python's standard library:
a reference for implementers and a test of docs/contract.md, not a library.
Version 2 is the one to write; version 1 (Go's encoding) is here to show
what reproducing it takes. Reads seal-vectors.json, prints one JSON line per
vector: {"name", "canonicalV1", "sealV1", "canonicalV2", "sealV2", "sealed"},
sealed being the outcome message with token, sealVersion 2 and mac, ready for
the fulfiller. A vector that cannot be sealed prints empty strings and
sealed null.

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


def shortest(x):
    """The shortest digits that read back as the positive double x, and n
    such that x = 0.digits * 10**n."""
    mant, _, exp = repr(x).partition("e")
    whole, _, frac = mant.partition(".")
    digits = (whole + frac).lstrip("0")
    n = len(whole) + int(exp or 0) - (len(whole + frac) - len(digits))
    return digits.rstrip("0"), n


def es6_number(x):
    """ECMAScript Number::toString of a finite, non-integral double."""
    digits, n = shortest(abs(x))
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


# Seal version 1: Go's json.Marshal, quirks included.

def go_number(x):
    """Go's strconv.FormatFloat(x, 'g', -1, 64), after jobtoken.Canonical
    has written integral doubles within 2**53 as integers."""
    if isinstance(x, int):
        return str(x)
    if not math.isfinite(x):
        raise ValueError("number out of range")
    if x.is_integer() and abs(x) <= 2**53:
        return str(int(x))
    digits, n = shortest(abs(x))
    e = n - 1
    if e < -4 or e >= 6:  # %e: at least two exponent digits
        out = digits[0] + ("." + digits[1:] if len(digits) > 1 else "") + "e" + ("+" if e >= 0 else "-") + "%02d" % abs(e)
    elif n <= 0:
        out = "0." + "0" * -n + digits
    elif n >= len(digits):
        out = digits + "0" * (n - len(digits))
    else:
        out = digits[:n] + "." + digits[n:]
    return "-" + out if x < 0 else out


_GO_HTML = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def go_string(s):
    # Go escapes like JSON.stringify, and also <, >, &, U+2028 and U+2029.
    return re.sub("[<>&\u2028\u2029]", lambda m: _GO_HTML[m.group()], string(s))


def go_canonical(v):
    if isinstance(v, bool) or v is None:
        return canonical(v)
    if isinstance(v, (int, float)):
        return go_number(v)
    if isinstance(v, str):
        return go_string(v)
    if isinstance(v, list):
        return "[" + ",".join(go_canonical(e) for e in v) + "]"
    if isinstance(v, dict):
        items = {_LONE_SURROGATE.sub("\ufffd", k): e for k, e in v.items()}
        keys = sorted(items, key=lambda k: k.encode("utf-8"))  # Go sorts keys bytewise
        return "{" + ",".join(go_string(k) + ":" + go_canonical(items[k]) for k in keys) + "}"
    raise TypeError(type(v))


def canonical_outcome_v1(msg):
    """Go's json.Marshal of jobtoken's fixed struct: this field order, the
    last three only when set."""
    out = '{"jobKey":%d,"outcome":%s,"variables":%s,"errorCode":%s,"errorMessage":%s,"retries":%d,"retryBackoffMs":%d' % (
        msg["jobKey"], go_string(msg["outcome"]), go_canonical(msg.get("variables")), go_string(msg.get("errorCode", "")),
        go_string(msg.get("errorMessage", "")), msg.get("retries", 0), msg.get("retryBackoffMs", 0))
    if msg.get("async"):
        out += ',"async":true'
    if msg.get("deadline"):
        out += ',"deadline":%d' % msg["deadline"]
    if msg.get("timeoutMs"):
        out += ',"timeoutMs":%d' % msg["timeoutMs"]
    return out + "}"


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
        out = {"name": v["name"], "canonicalV1": "", "sealV1": "", "canonicalV2": "", "sealV2": "", "sealed": None}
        msg = parse(v["message"])
        try:
            content, content_v1 = canonical_outcome(msg), canonical_outcome_v1(msg)
        except ValueError:
            print(json.dumps(out))
            continue
        out["canonicalV1"], out["sealV1"] = content_v1, seal(v["token"]["sig"], content_v1)
        out["canonicalV2"], out["sealV2"] = content, seal(v["token"]["sig"], content)
        msg.update(token=v["token"], sealVersion=2, mac=out["sealV2"])
        out["sealed"] = json.dumps(msg)
        print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
