#!/usr/bin/env python3
"""Independent check of a yongxin lottery proof (algorithm yongxin-lottery-v1), standard library
only: python3 tools/verify_lottery.py PROOF.json -> exit 0 if it holds, 1 saying what does not."""
import hashlib
import json
import re
import sys


def sha256(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def main(path):
    with open(path, encoding="utf-8") as f:
        proof = json.load(f)
    if proof["algorithm"] != "yongxin-lottery-v1":
        return "unknown algorithm %r" % proof["algorithm"]
    codes = proof["list"]
    if codes != sorted(codes, key=lambda c: c.encode("utf-8")) or len(set(codes)) != len(codes):
        return "the list is not sorted and unique"
    list_hash = sha256("".join(code + "\n" for code in codes))
    if list_hash != proof["list_sha256"]:
        return "the list hashes to %s, the proof states %s" % (list_hash, proof["list_sha256"])
    seed = proof["seed"]
    if not re.fullmatch(r"[0-9]{6}(:[\x21-\x7e]{1,64})?", seed):
        return "the seed %r is not six digits with an optional published value" % seed
    order = sorted(codes, key=lambda c: (sha256(seed + "\n" + list_hash + "\n" + c), c.encode("utf-8")))
    for i, (want, got) in enumerate(zip(order, proof["order"]), start=1):
        if want != got:
            return "the order differs at position %d: %s, not %s" % (i, want, got)
    if len(order) != len(proof["order"]):
        return "the order has %d households, the list %d" % (len(proof["order"]), len(order))
    return None


if __name__ == "__main__":
    problem = main(sys.argv[1])
    if problem:
        print("lottery proof does NOT hold: " + problem, file=sys.stderr)
        sys.exit(1)
    print("lottery proof verified")
