#!/usr/bin/env python3
"""Independent check of a yongxin lottery proof (algorithm yongxin-lottery-v1), standard library
only: python3 tools/verify_lottery.py PROOF.json -> exit 0 if it holds, 1 saying what does not.
A proof with a seed_commitment also has its reveals checked against the commitment and its seed
recomputed from them; compare the commitment printed with the one in the freeze notice."""
import hashlib
import json
import re
import sys


def sha256(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def has_break(text):
    # Control characters (line feeds among them) and Unicode line/paragraph separators.
    return any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F or c in "\u2028\u2029" for c in text)


def derived_seed(proof, list_hash, checked):
    """The seed the commitment, public number and reveals give, or the problem as ("", problem)."""
    parties = proof["seed_commitment"].get("parties", [])
    if len(parties) < 2:
        return "", "the seed commitment has fewer than 2 parties"
    names = [p["party"] for p in parties]
    for p in parties:
        if not 1 <= len(p["party"]) <= 40 or has_break(p["party"]) or p["party"].strip() != p["party"]:
            return "", "the party name %r is not 1-40 characters without line breaks" % p["party"]
        if not re.fullmatch(r"[0-9a-f]{64}", p["sha256"]):
            return "", "the commitment of %s is not 64 lowercase hexadecimal digits" % p["party"]
    if len(set(names)) != len(names):
        return "", "a party is named twice in the seed commitment"
    if len(set(p["sha256"] for p in parties)) != len(parties):
        return "", "two parties committed the same hash"
    number = proof.get("public_number")
    if not isinstance(number, str) or not re.fullmatch(r"[0-9]{6}", number):
        return "", "the public number %r is not six digits" % number
    secrets = {}
    for r in proof.get("reveals", []):
        party, secret = r["party"], r["secret"]
        if party not in names:
            return "", "%s is not one of the committed parties" % party
        if party in secrets:
            return "", "%s revealed twice" % party
        if not 1 <= len(secret) <= 200 or has_break(secret):
            return "", "the secret revealed by %s is not 1-200 characters without line breaks" % party
        secrets[party] = secret
    for p in parties:
        if p["party"] not in secrets:
            return "", "%s committed but did not reveal a secret" % p["party"]
        if sha256(secrets[p["party"]]) != p["sha256"]:
            return "", "the secret revealed by %s does not match its commitment" % p["party"]
        checked.append("%s's secret hashes to its commitment %s" % (p["party"], p["sha256"]))
    text = "yongxin-seed-v1\n" + list_hash + "\n" + number + "\n"
    text += "".join(secrets[p["party"]] + "\n" for p in parties)
    return number + ":" + sha256(text), None


def main(path, checked):
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
    checked.append("%d households, list sha256 %s" % (len(codes), list_hash))
    seed = proof["seed"]
    # As the Rust verifier reads it: a null or empty field is an absent one.
    if proof.get("seed_commitment") is not None:
        derived, problem = derived_seed(proof, list_hash, checked)
        if problem:
            return problem
        if derived != seed:
            return "the seed is not derived from the commitment: the reveals give %s, the proof states %s" % (derived, seed)
        checked.append("seed %s derived from public number %s and the reveals" % (seed, proof["public_number"]))
    elif proof.get("reveals") or proof.get("public_number") is not None:
        return "the proof holds reveals or a public number but no seed commitment"
    else:
        checked.append("seed %s as entered, without a commitment" % seed)
    if not re.fullmatch(r"[0-9]{6}(:[\x21-\x7e]{1,64})?", seed):
        return "the seed %r is not six digits with an optional published value" % seed
    order = sorted(codes, key=lambda c: (sha256(seed + "\n" + list_hash + "\n" + c), c.encode("utf-8")))
    for i, (want, got) in enumerate(zip(order, proof["order"]), start=1):
        if want != got:
            return "the order differs at position %d: %s, not %s" % (i, want, got)
    if len(order) != len(proof["order"]):
        return "the order has %d households, the list %d" % (len(proof["order"]), len(order))
    checked.append("the order of all %d households" % len(order))
    return None


if __name__ == "__main__":
    checked = []
    problem = main(sys.argv[1], checked)
    if problem:
        print("lottery proof does NOT hold: " + problem, file=sys.stderr)
        sys.exit(1)
    print("lottery proof verified")
    for line in checked:
        print("  checked: " + line)
