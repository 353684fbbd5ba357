#!/usr/bin/env python3
"""Independent re-check of a stopgate evidence log (docs/EVIDENCE.md, "Checking it yourself").

usage: evidence_check.py [--key-env NAME] DIR
Exit 0 when every hash, link and (with a key) checkpoint HMAC holds; 1 otherwise.
Records before a retention anchor are not required (see docs); single instance per DIR.
"""
import hashlib, hmac, json, os, re, sys

SUFFIX = re.compile(rb',"hash":"([0-9a-f]{64})"\}$')

def main():
    args = sys.argv[1:]
    key_env = "STOPGATE_EVIDENCE_KEY"
    if len(args) == 3 and args[0] == "--key-env":
        key_env, args = args[1], args[2:]
    key = os.environ.get(key_env, "").encode() or None
    d = args[0]
    segs = sorted((f for f in os.listdir(d) if re.fullmatch(r".+-\d{8}-\d{6,12}\.jsonl", f)),
                  key=lambda f: int(f[:-6].rsplit("-", 1)[1]))
    prev, seq, checked = None, None, 0
    for name in segs:
        data = open(os.path.join(d, name), "rb").read()
        if data and not data.endswith(b"\n"):
            sys.exit(f"{name}: unterminated last line")
        for n, line in enumerate(data.splitlines(), 1):
            m = SUFFIX.search(line)
            canonical = line[: m.start()] + b"}" if m else None
            if not m or hashlib.sha256(canonical).hexdigest() != m.group(1).decode():
                sys.exit(f"{name} line {n}: hash mismatch")
            rec = json.loads(line)
            again = json.dumps({k: v for k, v in rec.items() if k != "hash"}, sort_keys=True,
                               separators=(",", ":"), ensure_ascii=False).encode()
            if again != canonical:
                sys.exit(f"{name} line {n}: not in canonical form")
            if prev is None:
                ok = rec["seq"] == 1 and rec["prev"] == "0" * 64 or rec["seq"] > 1
            else:
                ok = rec["seq"] == seq + 1 and rec["prev"] == prev
            if not ok:
                sys.exit(f"{name} line {n} (seq {rec['seq']}): chain broken")
            if rec["type"] == "checkpoint" and key:
                msg = f"stopgate-evidence-checkpoint-v1\n{rec['head_seq']}\n{rec['head_hash']}"
                mac = hmac.new(key, msg.encode(), hashlib.sha256).hexdigest()
                if rec["head_hash"] != rec["prev"] or not hmac.compare_digest(mac, rec["hmac"]):
                    sys.exit(f"{name} line {n} (seq {rec['seq']}): checkpoint HMAC mismatch")
                checked += 1
            prev, seq = m.group(1).decode(), rec["seq"]
    print(f"ok: last seq {seq}, {checked} checkpoints checked" + ("" if key else " (no key)"))

if __name__ == "__main__":
    main()
