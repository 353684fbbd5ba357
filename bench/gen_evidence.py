#!/usr/bin/env python3
"""Writes an evidence log segment as a gateway would: N records, hash-chained in the canonical
form of docs/EVIDENCE.md (so `stopgatectl evidence verify --chain-only` passes), a mix of the
record types a busy gateway writes. For bench/rebuild.sh.

    bench/gen_evidence.py DIR N [INSTANCE]

Mix per 100 records: 60 decisions, 28 opt-outs (API and STOP), 8 consents, 2 opt-ins, 1
forget, 1 send. Numbers are drawn from 2,000,000 (+1 212 2xx xxxx), so some repeat.
"""
import hashlib
import json
import os
import random
import sys
import time


def main():
    out_dir, n = sys.argv[1], int(sys.argv[2])
    instance = sys.argv[3] if len(sys.argv) > 3 else "gwb"
    os.makedirs(out_dir, exist_ok=True)
    rnd = random.Random(7)
    prev = "0" * 64
    base = 1_765_000_000_000_000  # µs
    path = os.path.join(out_dir, f"{instance}-20251206-000001.jsonl")
    with open(path, "w", encoding="utf-8") as f:
        for seq in range(1, n + 1):
            us = base + seq * 1000
            secs, frac = divmod(us, 1_000_000)
            ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{frac:06d}Z"
            to = f"+1212{2000000 + rnd.randrange(2_000_000):07d}"
            k = seq % 100
            if k < 60:
                rec = {"type": "decision", "to": to, "sender": "acme", "channel": "sms",
                       "purpose": "marketing", "decision": "allow", "reasons": [], "at": ts[:19] + "Z"}
            elif k < 74:
                rec = {"type": "optout", "to": to, "sender": "acme", "channel": "api", "at": ts}
            elif k < 88:
                rec = {"type": "optout", "to": to, "sender": "*", "channel": "sms", "source": "sms:STOP",
                       "at": ts, "match": "STOP"}
            elif k < 96:
                rec = {"type": "consent", "to": to, "sender": "acme", "kind": "express_written",
                       "captured_at": ts, "method": "web_form", "url": "https://acme.example/join",
                       "text": "I agree to receive marketing texts from Acme."}
            elif k < 98:
                rec = {"type": "optin", "to": to, "sender": "acme", "kind": "express",
                       "captured_at": ts, "method": "keyword", "keyword": "START"}
            elif k < 99:
                rec = {"type": "forget", "to": to, "at": ts, "erased": ["number"], "kept": []}
            else:
                rec = {"type": "send", "to": to, "sender": "acme", "message_id": f"m{seq}"}
            rec.update({"id": f"{instance}-{seq}", "seq": seq, "ts": ts, "prev": prev})
            canon = json.dumps(rec, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            h = hashlib.sha256(canon.encode()).hexdigest()
            f.write(canon[:-1] + ',"hash":"' + h + '"}\n')
            prev = h


if __name__ == "__main__":
    main()
