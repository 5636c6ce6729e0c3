// The seal of the zeebe-lambda-bridge contract in Node.js's standard
// library: a reference for implementers and a test of docs/contract.md, not
// a library. Version 2 is the one to write; version 1 (Go's encoding) is here
// to show what reproducing it takes. Reads seal-vectors.json, prints one JSON
// line per vector: {"name", "canonicalV1", "sealV1", "canonicalV2", "sealV2",
// "sealed"}, sealed being the outcome message with token, sealVersion 2 and
// mac, ready for the fulfiller. A vector that cannot be sealed prints empty
// strings and sealed null.
//
// Usage: node seal.mjs seal-vectors.json
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

// A number as written: JSON.parse would round 9007199254740993 to
// 9007199254740992, so numbers keep their literal (Node 20 has no
// JSON.parse source access).
class Num {
  constructor(literal) { this.literal = literal; }
}

// parse is JSON.parse that keeps number literals (Num) and objects as Maps
// (so "__proto__" is a key like any other). Strings are decoded by JSON.parse.
export function parse(text) {
  let i = 0;
  const ws = () => { while (' \t\n\r'.includes(text[i]) && i < text.length) i++; };
  const fail = () => { throw new SyntaxError(`not JSON at offset ${i}`); };
  const token = (re) => {
    re.lastIndex = i;
    const m = re.exec(text);
    if (!m) fail();
    i = re.lastIndex;
    return m[0];
  };
  const STRING = /"(?:[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"/y;
  const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
  const value = () => {
    ws();
    switch (text[i]) {
      case '{': {
        i++;
        const o = new Map();
        ws();
        if (text[i] === '}') { i++; return o; }
        for (;;) {
          ws();
          const k = JSON.parse(token(STRING));
          ws();
          if (text[i++] !== ':') fail();
          o.set(k, value());
          ws();
          if (text[i] === ',') { i++; continue; }
          if (text[i++] !== '}') fail();
          return o;
        }
      }
      case '[': {
        i++;
        const a = [];
        ws();
        if (text[i] === ']') { i++; return a; }
        for (;;) {
          a.push(value());
          ws();
          if (text[i] === ',') { i++; continue; }
          if (text[i++] !== ']') fail();
          return a;
        }
      }
      case '"': return JSON.parse(token(STRING));
      case 't': token(/true/y); return true;
      case 'f': token(/false/y); return false;
      case 'n': token(/null/y); return null;
      default: return new Num(token(NUMBER));
    }
  };
  const v = value();
  ws();
  if (i !== text.length) fail();
  return v;
}

export function number(literal) {
  if (/^-?[0-9]+$/.test(literal)) return BigInt(literal).toString(); // exact, however large
  const d = Number(literal);
  if (!Number.isFinite(d)) throw new RangeError(`number out of range: ${literal}`);
  if (Number.isInteger(d)) return BigInt(d).toString(); // the double's exact integer value
  return String(d); // ECMAScript Number::toString, as RFC 8785
}

// JSON.stringify escapes strings as RFC 8785 wants; lone surrogates read as U+FFFD.
const string = (s) => JSON.stringify(s.toWellFormed());

export function canonical(v) {
  if (v === null) return 'null';
  if (v === true || v === false) return String(v);
  if (v instanceof Num) return number(v.literal);
  if (typeof v === 'string') return string(v);
  if (Array.isArray(v)) return '[' + v.map(canonical).join(',') + ']';
  if (v instanceof Map) {
    const items = new Map([...v].map(([k, e]) => [k.toWellFormed(), e]));
    // The default sort compares UTF-16 code units, as RFC 8785 orders keys.
    const keys = [...items.keys()].sort();
    return '{' + keys.map((k) => string(k) + ':' + canonical(items.get(k))).join(',') + '}';
  }
  throw new TypeError(`cannot canonicalise ${typeof v}`);
}

// The content a version 2 seal covers: every field, zero values included.
export function canonicalOutcome(msg) {
  const get = (k, dflt) => (msg.has(k) ? msg.get(k) : dflt);
  return canonical(new Map([
    ['sealVersion', new Num('2')],
    ['jobKey', msg.get('jobKey')],
    ['outcome', msg.get('outcome')],
    ['variables', get('variables', null)],
    ['errorCode', get('errorCode', '')],
    ['errorMessage', get('errorMessage', '')],
    ['retries', get('retries', new Num('0'))],
    ['retryBackoffMs', get('retryBackoffMs', new Num('0'))],
    ['async', get('async', false)],
    ['deadline', get('deadline', new Num('0'))],
    ['timeoutMs', get('timeoutMs', new Num('0'))],
  ]));
}

// Seal version 1: Go's json.Marshal, quirks included.

// goNumber is Go's strconv.FormatFloat(d, 'g', -1, 64), after
// jobtoken.Canonical has written integral doubles within 2^53 as integers.
export function goNumber(literal) {
  if (/^-?[0-9]+$/.test(literal)) return BigInt(literal).toString();
  const d = Number(literal);
  if (!Number.isFinite(d)) throw new RangeError(`number out of range: ${literal}`);
  if (Number.isInteger(d) && Math.abs(d) <= 2 ** 53) return BigInt(d).toString();
  // toExponential() gives the shortest digits that read back as d.
  const [mant, exp] = Math.abs(d).toExponential().split('e');
  const digits = mant.replace('.', '');
  const e = Number(exp);
  const n = e + 1; // d = 0.digits × 10^n
  let out;
  if (e < -4 || e >= 6) {
    out = mant + 'e' + (e < 0 ? '-' : '+') + String(Math.abs(e)).padStart(2, '0');
  } else if (n <= 0) {
    out = '0.' + '0'.repeat(-n) + digits;
  } else if (n >= digits.length) {
    out = digits + '0'.repeat(n - digits.length);
  } else {
    out = digits.slice(0, n) + '.' + digits.slice(n);
  }
  return d < 0 ? '-' + out : out;
}

// Go escapes like JSON.stringify, and also <, >, &, U+2028 and U+2029.
const goString = (s) => string(s).replace(/[<>&\u2028\u2029]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));

// Go sorts object keys by their UTF-8 bytes, not by UTF-16 code units.
const utf8Order = (a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

function goCanonical(v) {
  if (v === null || v === true || v === false) return String(v);
  if (v instanceof Num) return goNumber(v.literal);
  if (typeof v === 'string') return goString(v);
  if (Array.isArray(v)) return '[' + v.map(goCanonical).join(',') + ']';
  if (v instanceof Map) {
    const items = new Map([...v].map(([k, e]) => [k.toWellFormed(), e]));
    const keys = [...items.keys()].sort(utf8Order);
    return '{' + keys.map((k) => goString(k) + ':' + goCanonical(items.get(k))).join(',') + '}';
  }
  throw new TypeError(`cannot canonicalise ${typeof v}`);
}

// canonicalOutcomeV1 is Go's json.Marshal of jobtoken's fixed struct: this
// field order, the last three only when set.
export function canonicalOutcomeV1(msg) {
  const int = (k) => (msg.has(k) ? BigInt(msg.get(k).literal).toString() : '0');
  let out = '{"jobKey":' + int('jobKey') + ',"outcome":' + goString(msg.get('outcome')) +
    ',"variables":' + goCanonical(msg.has('variables') ? msg.get('variables') : null) +
    ',"errorCode":' + goString(msg.get('errorCode') ?? '') + ',"errorMessage":' + goString(msg.get('errorMessage') ?? '') +
    ',"retries":' + int('retries') + ',"retryBackoffMs":' + int('retryBackoffMs');
  if (msg.get('async') === true) out += ',"async":true';
  if (int('deadline') !== '0') out += ',"deadline":' + int('deadline');
  if (int('timeoutMs') !== '0') out += ',"timeoutMs":' + int('timeoutMs');
  return out + '}';
}

export function seal(sig, content) {
  return createHmac('sha256', Buffer.from(sig, 'base64url')).update(content, 'utf8').digest('base64url');
}

function main(path) {
  const { vectors } = JSON.parse(readFileSync(path, 'utf8'));
  for (const v of vectors) {
    const out = { name: v.name, canonicalV1: '', sealV1: '', canonicalV2: '', sealV2: '', sealed: null };
    const msg = parse(v.message);
    let content, contentV1;
    try {
      [content, contentV1] = [canonicalOutcome(msg), canonicalOutcomeV1(msg)];
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
      console.log(JSON.stringify(out));
      continue;
    }
    out.canonicalV1 = contentV1;
    out.sealV1 = seal(v.token.sig, contentV1);
    out.canonicalV2 = content;
    out.sealV2 = seal(v.token.sig, content);
    // The message's own text stays as it is (its numbers exact); the three
    // fields go on the end.
    const extra = { token: v.token, sealVersion: 2, mac: out.sealV2 };
    out.sealed = v.message.trimEnd().replace(/}$/, ',' + JSON.stringify(extra).slice(1));
    console.log(JSON.stringify(out));
  }
}

// Run as a script, not when imported (the Go tests import number and goNumber).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main(process.argv[2]);
