//! The lottery (摇号) that orders households for house selection, as a pure function anyone can
//! recompute: the frozen list's canonical encoding and hash, the commitment to how the seed will be
//! made, the seed's format, the order, and the proof that carries all of them.
//!
//! Algorithm `yongxin-lottery-v1`:
//! 1. The list is the registered households' codes, each unique, sorted by their UTF-8 bytes. Its
//!    canonical encoding is every code followed by a line feed (`"A\nB\n"`); `list_sha256` is the
//!    lowercase hex SHA-256 of that encoding.
//! 2. When the list is frozen, at least two parties that do not answer to one another (the 街道办,
//!    the 村民代表, the 公证处) each choose a secret (1–200 characters, no control characters or
//!    line breaks) and hand in only its lowercase hex SHA-256 (UTF-8). The commitment — the parties
//!    in a fixed order with their hashes — is published with `list_sha256`
//!    ([`seed_rule_zh`]). A seed that any one operator could pick was ground in a test: 1,498 tries
//!    put a chosen household first; a committed secret cannot be changed after the list is known,
//!    and no party knows the others' secrets.
//! 3. On the day six decimal digits (the public number, `DDDDDD`) are drawn in public, then every
//!    party reveals its secret (in this order, so that whoever enters the number cannot try
//!    numbers against secrets already known); each must hash to its commitment. The seed is `DDDDDD:` followed by
//!    the lowercase hex SHA-256 of `"yongxin-seed-v1\n" + list_sha256 + "\n" + DDDDDD + "\n"` and
//!    every secret followed by `"\n"`, in the commitment's order ([`derive_seed`]). A redraw takes
//!    fresh commitments, published before it: once revealed, secrets no longer bind the seed.
//!
//!    What this does not prevent: the last party to reveal knows the order before anyone else
//!    and could refuse to reveal, forcing a redraw. That redraw is public, recorded with its
//!    reason in the proof, and needs new commitments, so it cannot be done quietly or tried
//!    again and again unseen; an office that wants even that closed has each party seal its
//!    secret with the notary (公证处) at the freeze, so a missing reveal can still be opened.
//! 4. A seed is six decimal digits, optionally followed by `:` and a value (1–64 printable ASCII
//!    characters, no spaces): a derived seed, or — in a draw made without a commitment, as proofs
//!    made before step 2 existed are — a value named in advance and published afterwards.
//! 5. Each household's key is the lowercase hex SHA-256 of `seed + "\n" + list_sha256 + "\n" +
//!    code` (UTF-8). The order sorts households by key (ties, which would need a SHA-256
//!    collision, by code).

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The algorithm's name, written into every proof.
pub const ALGORITHM: &str = "yongxin-lottery-v1";

/// The name of the seed derivation, the first line of what is hashed into a derived seed, so that
/// the hash of one purpose is never taken for another's.
pub const SEED_DERIVATION: &str = "yongxin-seed-v1";

/// Fewer parties would leave the seed to one of them again.
const MIN_PARTIES: usize = 2;
/// Names are shown in notices and on the lottery page; a short name is a party, not a sentence.
const PARTY_MAX_CHARS: usize = 40;
/// Long enough for a passphrase, short enough to read out and type in at the draw.
const SECRET_MAX_CHARS: usize = 200;

/// A checked seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seed(String);

impl Seed {
    /// Reads a seed: six digits, optionally `:` and a published value.
    pub fn parse(text: &str) -> Result<Self, LotteryError> {
        let text = text.trim();
        let (digits, value) = match text.split_once(':') {
            Some((d, v)) => (d, Some(v)),
            None => (text, None),
        };
        let digits_ok = digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit());
        let value_ok = value
            .is_none_or(|v| (1..=64).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_graphic()));
        if digits_ok && value_ok {
            Ok(Self(text.to_owned()))
        } else {
            Err(LotteryError::Seed)
        }
    }

    /// The seed as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Seed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What is wrong with a list, a seed or a proof.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LotteryError {
    /// The seed is not six digits, optionally with `:` and a published value.
    #[error("the seed must be six digits, optionally followed by ':' and a published value")]
    Seed,
    /// A code is empty or holds a line feed.
    #[error("household code {0:?} is empty or holds a line break")]
    Code(String),
    /// A code appears twice.
    #[error("household code {0:?} appears twice")]
    Duplicate(String),
    /// The proof names another algorithm.
    #[error("the proof uses algorithm {0:?}, not {ALGORITHM}")]
    Algorithm(String),
    /// The proof's list is not in canonical (sorted) order.
    #[error("the list is not sorted by code at position {0}")]
    Unsorted(usize),
    /// The list's hash is not the one the proof states.
    #[error("the list hashes to {computed}, the proof states {stated}")]
    ListHash {
        /// Recomputed.
        computed: String,
        /// As stated.
        stated: String,
    },
    /// The seed commitment is malformed; the text says how.
    #[error("seed commitment: {0}")]
    Commitment(String),
    /// The public number is not six digits (or a committed proof has none).
    #[error("the public number must be six digits drawn in public")]
    PublicNumber,
    /// A secret is empty, too long or holds a control character or line break.
    #[error("the secret revealed by {party} must be 1–200 characters without line breaks")]
    Secret {
        /// The revealing party.
        party: String,
    },
    /// A party revealed whose name is not in the commitment.
    #[error("{party} is not one of the committed parties")]
    RevealUnknown {
        /// As named in the reveal.
        party: String,
    },
    /// A party revealed twice.
    #[error("{party} revealed twice")]
    RevealDuplicate {
        /// The party.
        party: String,
    },
    /// A committed party did not reveal.
    #[error("{party} committed but did not reveal a secret")]
    RevealMissing {
        /// The party.
        party: String,
    },
    /// A revealed secret does not hash to the party's commitment.
    #[error("the secret revealed by {party} does not match its commitment")]
    RevealMismatch {
        /// The party.
        party: String,
    },
    /// The proof's seed is not the one its commitment, public number and reveals give.
    #[error("the seed is not derived from the commitment: the reveals give {derived}, the proof states {stated}")]
    SeedNotDerived {
        /// Derived from the reveals.
        derived: String,
        /// As stated.
        stated: String,
    },
    /// A proof holds reveals or a public number but no commitment they would answer.
    #[error("the proof holds reveals or a public number but no seed commitment")]
    Uncommitted,
    /// The proof's list hash or commitment is not the one published at the freeze.
    #[error("the proof's {0} is not the one published when the list was frozen")]
    NotAsPublished(&'static str),
    /// The order differs from the recomputed one.
    #[error("the order differs at position {position}: the draw gives {expected:?}, the proof states {stated:?}")]
    Order {
        /// 1-based position.
        position: usize,
        /// Recomputed code.
        expected: String,
        /// Stated code (empty when the proof's order is shorter).
        stated: String,
    },
}

fn hex_sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Refuses an empty code or one holding a line break (the encoding separates codes by lines).
fn check_codes(list: &[String]) -> Result<(), LotteryError> {
    match list
        .iter()
        .find(|c| c.is_empty() || c.contains(['\n', '\r']))
    {
        Some(bad) => Err(LotteryError::Code(bad.clone())),
        None => Ok(()),
    }
}

/// A name or secret may not hold a control character (line feeds included) or a Unicode line or
/// paragraph separator: the derivation separates secrets by line feeds, and a notice shows names
/// one per line.
fn has_break(text: &str) -> bool {
    text.chars()
        .any(|c| c.is_control() || c == '\u{2028}' || c == '\u{2029}')
}

fn is_lower_hex_sha256(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// One party's commitment, handed in when the list is frozen.
///
/// The secret behind it should be long and random (a passphrase of several words, or 16 or more
/// random letters and digits): its hash is public from the freeze to the draw, and a short or
/// guessable secret can be found from its hash by trying candidates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommittedParty {
    /// Who committed, e.g. "街道办", "村民代表", "公证处".
    pub party: String,
    /// Lowercase hex SHA-256 of the party's secret (its UTF-8 bytes, nothing appended).
    pub sha256: String,
}

/// Reads committed parties from text, one a line: the party's name, a space, the SHA-256 of its
/// value. Blank lines are skipped; a line without a space is refused (`None`).
pub fn parties_from_lines(text: &str) -> Option<Vec<CommittedParty>> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|line| {
            let (party, sha256) = line.rsplit_once(char::is_whitespace)?;
            Some(CommittedParty {
                party: party.trim().to_owned(),
                sha256: sha256.trim().to_owned(),
            })
        })
        .collect()
}

/// The parties' commitments to the secrets that, with the public number, will make the seed;
/// published with the list's hash at the freeze.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedCommitment {
    // Private so that a commitment built in code has passed `new`; one read from a proof is
    // checked again by `verify`.
    parties: Vec<CommittedParty>,
}

impl SeedCommitment {
    /// Checks and normalises a commitment: at least two parties, names 1–40 characters without line
    /// breaks (trimmed) and unique, each hash 64 hex digits (lowercased), no two hashes equal (two
    /// parties with one secret are one party).
    pub fn new(parties: Vec<CommittedParty>) -> Result<Self, LotteryError> {
        let commitment = Self {
            parties: parties
                .into_iter()
                .map(|p| CommittedParty {
                    party: p.party.trim().to_owned(),
                    sha256: p.sha256.trim().to_ascii_lowercase(),
                })
                .collect(),
        };
        commitment.check()?;
        Ok(commitment)
    }

    /// The parties in their fixed order, the order of their secrets in the derivation.
    pub fn parties(&self) -> &[CommittedParty] {
        &self.parties
    }

    /// Checks a commitment as stored or read from a proof, without normalising: what [`Self::new`]
    /// guarantees.
    pub fn check(&self) -> Result<(), LotteryError> {
        let refuse = |why: String| Err(LotteryError::Commitment(why));
        if self.parties.len() < MIN_PARTIES {
            return refuse(format!(
                "at least {MIN_PARTIES} parties must commit, so that no single one fixes the seed"
            ));
        }
        for (i, p) in self.parties.iter().enumerate() {
            let chars = p.party.chars().count();
            if chars == 0
                || chars > PARTY_MAX_CHARS
                || has_break(&p.party)
                || p.party.trim() != p.party
            {
                return refuse(format!(
                    "party name {:?} must be 1–{PARTY_MAX_CHARS} characters without line breaks",
                    p.party
                ));
            }
            if !is_lower_hex_sha256(&p.sha256) {
                return refuse(format!(
                    "the commitment of {} must be 64 hexadecimal digits (a SHA-256)",
                    p.party
                ));
            }
            // No secret of 1 or more characters hashes to this; the draw could never happen.
            if p.sha256 == hex_sha256(b"") {
                return refuse(format!(
                    "the commitment of {} is the hash of an empty secret",
                    p.party
                ));
            }
            for earlier in self.parties.iter().take(i) {
                if earlier.party == p.party {
                    return refuse(format!("party {} is named twice", p.party));
                }
                if earlier.sha256 == p.sha256 {
                    return refuse(format!(
                        "{} and {} committed the same hash",
                        earlier.party, p.party
                    ));
                }
            }
        }
        Ok(())
    }
}

/// A party's secret, revealed at the draw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reveal {
    /// The party, named exactly as in the commitment.
    pub party: String,
    /// The secret exactly as committed: 1–200 characters, UTF-8, no line breaks; not trimmed,
    /// as its hash covers every byte.
    pub secret: String,
}

/// The secrets in the commitment's order, each checked against its party's hash.
fn matched_secrets<'a>(
    commitment: &SeedCommitment,
    reveals: &'a [Reveal],
) -> Result<Vec<&'a str>, LotteryError> {
    let mut secrets: Vec<Option<&'a str>> = vec![None; commitment.parties.len()];
    for reveal in reveals {
        let party = || reveal.party.clone();
        let Some((slot, committed)) = secrets
            .iter_mut()
            .zip(&commitment.parties)
            .find(|(_, c)| c.party == reveal.party)
        else {
            return Err(LotteryError::RevealUnknown { party: party() });
        };
        if slot.is_some() {
            return Err(LotteryError::RevealDuplicate { party: party() });
        }
        let chars = reveal.secret.chars().count();
        if chars == 0 || chars > SECRET_MAX_CHARS || has_break(&reveal.secret) {
            return Err(LotteryError::Secret { party: party() });
        }
        if hex_sha256(reveal.secret.as_bytes()) != committed.sha256 {
            return Err(LotteryError::RevealMismatch { party: party() });
        }
        *slot = Some(&reveal.secret);
    }
    secrets
        .into_iter()
        .zip(&commitment.parties)
        .map(|(secret, c)| {
            secret.ok_or_else(|| LotteryError::RevealMissing {
                party: c.party.clone(),
            })
        })
        .collect()
}

/// The commitment to a party's value: the lowercase hex SHA-256 of its UTF-8 bytes (what
/// `printf %s VALUE | sha256sum` prints).
pub fn commitment_of(secret: &str) -> String {
    hex_sha256(secret.as_bytes())
}

/// Derives the seed from the frozen list's hash (as published, lowercase hex), the commitment,
/// the public number drawn on the day (six digits; surrounding spaces ignored) and every party's
/// reveal (any order): `DDDDDD:` + SHA-256 of the documented input (step 3 of the algorithm).
/// Refuses a missing, unknown or duplicate party and a secret that does not match its commitment.
pub fn derive_seed(
    list_sha256: &str,
    commitment: &SeedCommitment,
    public_number: &str,
    reveals: &[Reveal],
) -> Result<Seed, LotteryError> {
    commitment.check()?;
    let number = public_number.trim();
    if !is_public_number(number) {
        return Err(LotteryError::PublicNumber);
    }
    let secrets = matched_secrets(commitment, reveals)?;
    let mut input = format!("{SEED_DERIVATION}\n{list_sha256}\n{number}\n");
    for secret in secrets {
        input.push_str(secret);
        input.push('\n');
    }
    Seed::parse(&format!("{number}:{}", hex_sha256(input.as_bytes())))
}

fn is_public_number(text: &str) -> bool {
    text.len() == 6 && text.bytes().all(|b| b.is_ascii_digit())
}

/// The zh-CN text of the seed rule published at the freeze: every party with its commitment, how
/// the seed will be computed, and how anyone can check it.
pub fn seed_rule_zh(list_sha256: &str, commitment: &SeedCommitment) -> String {
    let parties = commitment
        .parties
        .iter()
        .enumerate()
        .map(|(i, p)| format!("{}. {}：{}", i + 1, p.party, p.sha256))
        .collect::<Vec<_>>()
        .join("\n");
    format!(
        "名单冻结时，下列 {n} 方各自选定一个只有本方知道的原值（1–200 个字符，不含换行），\
         只提交其 SHA-256 承诺值（对原值的 UTF-8 字节计算，不加换行）。承诺值与名单哈希一并公布，按以下顺序：\n\
         {parties}\n\n\
         摇号当天，先当众摇出一个六位数（公开号），随后各方当场公布原值；每个原值的 SHA-256 必须等于上面公布的承诺值，\
         缺少任何一方的原值都不能摇号。\
         种子 = 公开号 + “:” + SHA-256（“{SEED_DERIVATION}” + 换行 + 名单哈希 + 换行 + 公开号 + 换行 + \
         按上列顺序的各方原值，每个后接一个换行），\
         其中名单哈希为 {list_sha256}。\
         原值在公布前只有本方知道，承诺在名单冻结时已经公布、事后不能更改，因此任何一方都不能单独决定或预先试算种子。\
         如需重新摇号，各方须重新选定原值并提交承诺、公告后再摇。\
         摇号证明包含承诺值、各方原值、公开号、种子和顺序，任何人都可以用 yongxin lottery verify \
         或仓库中的独立校验脚本 tools/verify_lottery.py 复核。",
        n = commitment.parties.len(),
    )
}

/// The frozen list in canonical order, checked: codes non-empty, without line breaks, unique.
pub fn canonical_list(
    codes: impl IntoIterator<Item = String>,
) -> Result<Vec<String>, LotteryError> {
    let mut list: Vec<String> = codes.into_iter().collect();
    check_codes(&list)?;
    list.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    if let Some(w) = list.windows(2).find(|w| w[0] == w[1]) {
        return Err(LotteryError::Duplicate(w[0].clone()));
    }
    Ok(list)
}

/// The list's hash over its canonical encoding (the list must be canonical).
pub fn list_sha256(list: &[String]) -> String {
    let mut hasher = Sha256::new();
    for code in list {
        hasher.update(code.as_bytes());
        hasher.update(b"\n");
    }
    hex::encode(hasher.finalize())
}

/// The drawn order of a canonical list under a seed.
pub fn draw(list: &[String], list_hash: &str, seed: &Seed) -> Vec<String> {
    let prefix = format!("{}\n{list_hash}\n", seed.as_str());
    let mut keyed: Vec<(String, &String)> = list
        .iter()
        .map(|code| {
            let mut input = prefix.clone().into_bytes();
            input.extend_from_slice(code.as_bytes());
            (hex_sha256(&input), code)
        })
        .collect();
    keyed.sort_unstable_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| a.1.as_bytes().cmp(b.1.as_bytes()))
    });
    keyed.into_iter().map(|(_, code)| code.clone()).collect()
}

/// Everything needed to recompute a draw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proof {
    /// [`ALGORITHM`].
    pub algorithm: String,
    /// The frozen list, canonical.
    pub list: Vec<String>,
    /// Its hash.
    pub list_sha256: String,
    /// The commitment published at the freeze, for a draw whose seed is derived from it; absent
    /// in a draw made with a seed as entered (and in every proof made before commitments).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed_commitment: Option<SeedCommitment>,
    /// The six digits drawn in public, for a committed draw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_number: Option<String>,
    /// Every party's revealed secret, in the commitment's order, for a committed draw.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reveals: Vec<Reveal>,
    /// The seed: as entered, or derived from the commitment.
    pub seed: String,
    /// The order drawn, first to choose first.
    pub order: Vec<String>,
}

impl Proof {
    /// Draws over a list (any order; it is made canonical) with a seed.
    pub fn make(
        codes: impl IntoIterator<Item = String>,
        seed: &Seed,
    ) -> Result<Self, LotteryError> {
        let list = canonical_list(codes)?;
        let hash = list_sha256(&list);
        let order = draw(&list, &hash, seed);
        Ok(Self {
            algorithm: ALGORITHM.into(),
            list,
            list_sha256: hash,
            seed_commitment: None,
            public_number: None,
            reveals: Vec::new(),
            seed: seed.as_str().to_owned(),
            order,
        })
    }

    /// Draws over a list (any order; it is made canonical) with the seed derived from the
    /// commitment published at the freeze, the public number and every party's reveal (any
    /// order; the proof keeps them in the commitment's order).
    pub fn make_committed(
        codes: impl IntoIterator<Item = String>,
        commitment: &SeedCommitment,
        public_number: &str,
        reveals: &[Reveal],
    ) -> Result<Self, LotteryError> {
        let list = canonical_list(codes)?;
        let hash = list_sha256(&list);
        let seed = derive_seed(&hash, commitment, public_number, reveals)?;
        let order = draw(&list, &hash, &seed);
        // `derive_seed` has matched every party to exactly one reveal.
        let reveals = commitment
            .parties
            .iter()
            .filter_map(|c| reveals.iter().find(|r| r.party == c.party).cloned())
            .collect();
        Ok(Self {
            algorithm: ALGORITHM.into(),
            list,
            list_sha256: hash,
            seed_commitment: Some(commitment.clone()),
            public_number: Some(public_number.trim().to_owned()),
            reveals,
            seed: seed.as_str().to_owned(),
            order,
        })
    }

    /// Recomputes the proof: the algorithm, the list's canonical order and hash, for a committed
    /// draw the commitment, the reveals against it and the seed derived from them, the seed's
    /// format and the order; the first thing that does not match is the error. It cannot know
    /// what was published at the freeze: [`Self::verify_published`] also compares that.
    pub fn verify(&self) -> Result<(), LotteryError> {
        if self.algorithm != ALGORITHM {
            return Err(LotteryError::Algorithm(self.algorithm.clone()));
        }
        check_codes(&self.list)?;
        for (i, w) in self.list.windows(2).enumerate() {
            match w[0].as_bytes().cmp(w[1].as_bytes()) {
                std::cmp::Ordering::Less => {}
                std::cmp::Ordering::Equal => return Err(LotteryError::Duplicate(w[0].clone())),
                std::cmp::Ordering::Greater => return Err(LotteryError::Unsorted(i + 2)),
            }
        }
        let computed = list_sha256(&self.list);
        if computed != self.list_sha256 {
            return Err(LotteryError::ListHash {
                computed,
                stated: self.list_sha256.clone(),
            });
        }
        match &self.seed_commitment {
            Some(commitment) => {
                // Strict here, where `derive_seed` would trim: the proof states what was hashed.
                let number = self
                    .public_number
                    .as_deref()
                    .filter(|n| is_public_number(n))
                    .ok_or(LotteryError::PublicNumber)?;
                let derived = derive_seed(&computed, commitment, number, &self.reveals)?;
                if derived.as_str() != self.seed {
                    return Err(LotteryError::SeedNotDerived {
                        derived: derived.as_str().to_owned(),
                        stated: self.seed.clone(),
                    });
                }
            }
            // Reveals without a commitment would look checked to a reader while nothing was.
            None if self.public_number.is_some() || !self.reveals.is_empty() => {
                return Err(LotteryError::Uncommitted);
            }
            None => {}
        }
        // Strict as for the public number: `Seed::parse` trims what a person types, but the
        // proof states the seed that was hashed, and tools/verify_lottery.py refuses a padded one.
        let seed = Seed::parse(&self.seed)?;
        if seed.as_str() != self.seed {
            return Err(LotteryError::Seed);
        }
        let expected = draw(&self.list, &computed, &seed);
        for (i, code) in expected.iter().enumerate() {
            let stated = self.order.get(i).cloned().unwrap_or_default();
            if &stated != code {
                return Err(LotteryError::Order {
                    position: i + 1,
                    expected: code.clone(),
                    stated,
                });
            }
        }
        if self.order.len() > expected.len() {
            return Err(LotteryError::Order {
                position: expected.len() + 1,
                expected: String::new(),
                stated: self.order[expected.len()].clone(),
            });
        }
        Ok(())
    }

    /// [`Self::verify`], and the proof's list hash and commitment are the ones published when the
    /// list was frozen (or, for a redraw, announced before it): a proof with a commitment made up
    /// after the fact is consistent in itself and refused only here.
    pub fn verify_published(
        &self,
        list_sha256: &str,
        commitment: &SeedCommitment,
    ) -> Result<(), LotteryError> {
        self.verify()?;
        if self.list_sha256 != list_sha256 {
            return Err(LotteryError::NotAsPublished("list hash"));
        }
        if self.seed_commitment.as_ref() != Some(commitment) {
            return Err(LotteryError::NotAsPublished("seed commitment"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod parties_tests {
    use super::*;

    #[test]
    fn each_line_names_a_party_and_its_commitment() {
        let parties = parties_from_lines("\n街道办 abc\n 村民 代表  def \n\n").expect("two lines");
        assert_eq!(
            parties,
            vec![
                CommittedParty {
                    party: "街道办".into(),
                    sha256: "abc".into()
                },
                CommittedParty {
                    party: "村民 代表".into(),
                    sha256: "def".into()
                },
            ]
        );
        assert_eq!(parties_from_lines("no-space"), None);
        assert_eq!(parties_from_lines(""), Some(Vec::new()));
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]

    use super::*;

    fn codes(n: usize) -> Vec<String> {
        (1..=n)
            .rev()
            .map(|i| format!("V{:02}-{i:04}", i % 4 + 1))
            .collect()
    }

    #[test]
    fn seeds_are_six_digits_with_an_optional_published_value() {
        assert!(Seed::parse("382915").is_ok());
        assert!(Seed::parse(" 000001 ").is_ok());
        assert!(Seed::parse("382915:SSE-2026-12-01-3284.12").is_ok());
        for bad in [
            "38291",
            "3829150",
            "38291a",
            "382915:",
            "382915:has space",
            "",
            &format!("382915:{}", "x".repeat(65)),
        ] {
            assert_eq!(Seed::parse(bad), Err(LotteryError::Seed), "{bad:?}");
        }
    }

    #[test]
    fn the_list_is_canonical_and_hashed_as_documented() {
        let list = canonical_list(vec!["b".into(), "a".into(), "東".into(), "B".into()]).unwrap();
        assert_eq!(list, vec!["B", "a", "b", "東"], "by UTF-8 bytes");
        // sha256("B\na\nb\n東\n"), computed independently with Python's hashlib.
        assert_eq!(
            list_sha256(&list),
            "2a9a0ac740be3e8fa2141691b9ebc2feb0e4779a5a170c381c30aa497ea59424"
        );
        assert_eq!(
            hex_sha256(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            canonical_list(vec!["a".into(), "a".into()]),
            Err(LotteryError::Duplicate("a".into()))
        );
        assert_eq!(
            canonical_list(vec!["a\nb".into()]),
            Err(LotteryError::Code("a\nb".into()))
        );
        assert_eq!(
            canonical_list(vec![String::new()]),
            Err(LotteryError::Code(String::new()))
        );
    }

    #[test]
    fn the_draw_is_a_permutation_fixed_by_seed_and_list() {
        let seed = Seed::parse("382915").unwrap();
        let p = Proof::make(codes(500), &seed).unwrap();
        let mut sorted = p.order.clone();
        sorted.sort();
        assert_eq!(sorted, p.list, "every household once");
        assert_eq!(
            Proof::make(codes(500), &seed).unwrap(),
            p,
            "same inputs, same order"
        );
        let other = Proof::make(codes(500), &Seed::parse("382916").unwrap()).unwrap();
        assert_ne!(other.order, p.order, "another seed, another order");
        let fewer = Proof::make(codes(499), &seed).unwrap();
        assert_ne!(fewer.list_sha256, p.list_sha256);
        // The first place follows the documented key.
        let key = |code: &str| hex_sha256(format!("382915\n{}\n{code}", p.list_sha256).as_bytes());
        let best = p.list.iter().min_by_key(|c| key(c)).unwrap();
        assert_eq!(&p.order[0], best);
        assert!(p.verify().is_ok());
    }

    #[test]
    fn a_tampered_proof_says_what_does_not_match() {
        let p = Proof::make(codes(50), &Seed::parse("123456:published").unwrap()).unwrap();
        let mut swapped = p.clone();
        swapped.order.swap(3, 4);
        assert!(matches!(
            swapped.verify(),
            Err(LotteryError::Order { position: 4, .. })
        ));
        let mut seed = p.clone();
        seed.seed = "123457:published".into();
        assert!(matches!(
            seed.verify(),
            Err(LotteryError::Order { position: 1, .. }) | Err(LotteryError::Order { .. })
        ));
        // Found with the `lottery_proof` fuzz target's check (a verified proof is the one a new
        // draw makes): a seed with spaces around it verified here, drawn with the trimmed seed,
        // while the independent verifier refuses it.
        let mut padded = p.clone();
        padded.seed = format!(" {} ", p.seed);
        assert_eq!(padded.verify(), Err(LotteryError::Seed));
        let mut added = p.clone();
        added.list.push("Z99-9999".into());
        assert!(matches!(added.verify(), Err(LotteryError::ListHash { .. })));
        let mut unsorted = p.clone();
        unsorted.list.swap(0, 1);
        assert_eq!(unsorted.verify(), Err(LotteryError::Unsorted(2)));
        let mut short = p.clone();
        short.order.pop();
        assert!(matches!(
            short.verify(),
            Err(LotteryError::Order { position: 50, .. })
        ));
        let mut long = p.clone();
        long.order.push("extra".into());
        assert!(matches!(
            long.verify(),
            Err(LotteryError::Order { position: 51, .. })
        ));
        let mut algo = p.clone();
        algo.algorithm = "v0".into();
        assert_eq!(algo.verify(), Err(LotteryError::Algorithm("v0".into())));
        let mut bad_seed = p;
        bad_seed.seed = "12".into();
        assert_eq!(bad_seed.verify(), Err(LotteryError::Seed));
    }

    /// The cross-implementation vector: every value below was computed once with Python's hashlib,
    /// independently of this code, and `tools/verify_lottery.py` checks the same proof.
    const VECTOR_SECRETS: [(&str, &str, &str); 3] = [
        (
            "街道办",
            "jiedao-2026-冬至-58213",
            "cb497a11b295d6359329453353f936638ce85e0236b64ba3e6f5cb4bd558a7e1",
        ),
        (
            "村民代表",
            "村民代表 第三组 7741",
            "c406b85a55edc80df059522b8e157dd6c85e1fc838123b07b448ad77e95bc4a6",
        ),
        (
            "公证处",
            "GZ-notary-0042",
            "a2abd0ef5d099bc9d8e6851c4c81124032b5d1b84ae646e30e46ca077e09b49b",
        ),
    ];
    const VECTOR_LIST_SHA256: &str =
        "2a9a0ac740be3e8fa2141691b9ebc2feb0e4779a5a170c381c30aa497ea59424";
    const VECTOR_SEED: &str =
        "038271:0bc5dc68b154e3821302d5a7e59b6f5265a822c4afc777f4389ebe5544f9330a";
    /// The vector's proof as Python's json.dumps wrote it.
    const VECTOR_PROOF: &str = r#"{"algorithm": "yongxin-lottery-v1", "list": ["B", "a", "b", "東"], "list_sha256": "2a9a0ac740be3e8fa2141691b9ebc2feb0e4779a5a170c381c30aa497ea59424", "seed_commitment": {"parties": [{"party": "街道办", "sha256": "cb497a11b295d6359329453353f936638ce85e0236b64ba3e6f5cb4bd558a7e1"}, {"party": "村民代表", "sha256": "c406b85a55edc80df059522b8e157dd6c85e1fc838123b07b448ad77e95bc4a6"}, {"party": "公证处", "sha256": "a2abd0ef5d099bc9d8e6851c4c81124032b5d1b84ae646e30e46ca077e09b49b"}]}, "public_number": "038271", "reveals": [{"party": "街道办", "secret": "jiedao-2026-冬至-58213"}, {"party": "村民代表", "secret": "村民代表 第三组 7741"}, {"party": "公证处", "secret": "GZ-notary-0042"}], "seed": "038271:0bc5dc68b154e3821302d5a7e59b6f5265a822c4afc777f4389ebe5544f9330a", "order": ["B", "b", "東", "a"]}"#;

    fn vector_list() -> Vec<String> {
        vec!["b".into(), "a".into(), "東".into(), "B".into()]
    }

    fn party(name: &str, sha256: &str) -> CommittedParty {
        CommittedParty {
            party: name.into(),
            sha256: sha256.into(),
        }
    }

    fn reveal(name: &str, secret: &str) -> Reveal {
        Reveal {
            party: name.into(),
            secret: secret.into(),
        }
    }

    fn vector_commitment() -> SeedCommitment {
        SeedCommitment::new(VECTOR_SECRETS.iter().map(|(p, _, h)| party(p, h)).collect()).unwrap()
    }

    fn vector_reveals() -> Vec<Reveal> {
        VECTOR_SECRETS
            .iter()
            .map(|(p, s, _)| reveal(p, s))
            .collect()
    }

    fn vector_proof() -> Proof {
        Proof::make_committed(
            vector_list(),
            &vector_commitment(),
            "038271",
            &vector_reveals(),
        )
        .unwrap()
    }

    #[test]
    fn the_derived_seed_matches_the_hand_computed_vector() {
        for (_, secret, sha256) in VECTOR_SECRETS {
            assert_eq!(hex_sha256(secret.as_bytes()), sha256, "{secret}");
        }
        let mut reveals = vector_reveals();
        let seed =
            derive_seed(VECTOR_LIST_SHA256, &vector_commitment(), "038271", &reveals).unwrap();
        assert_eq!(seed.as_str(), VECTOR_SEED);
        // The reveals' order does not matter; the commitment's does.
        reveals.reverse();
        let again = derive_seed(
            VECTOR_LIST_SHA256,
            &vector_commitment(),
            " 038271 ",
            &reveals,
        );
        assert_eq!(again, Ok(seed));
        let p =
            Proof::make_committed(vector_list(), &vector_commitment(), "038271", &reveals).unwrap();
        assert_eq!(p.seed, VECTOR_SEED);
        assert_eq!(p.list_sha256, VECTOR_LIST_SHA256);
        assert_eq!(p.order, vec!["B", "b", "東", "a"]);
        assert_eq!(
            p.reveals,
            vector_reveals(),
            "kept in the commitment's order"
        );
        assert_eq!(p.public_number.as_deref(), Some("038271"));
        assert_eq!(p, vector_proof(), "same inputs, same proof");
        assert_eq!(p.verify(), Ok(()));
        // The python-written proof is this one and verifies here.
        let python: Proof = serde_json::from_str(VECTOR_PROOF).unwrap();
        assert_eq!(python, p);
        assert_eq!(python.verify(), Ok(()));
    }

    #[test]
    fn a_commitment_is_checked_and_normalised() {
        let a = "A".repeat(64);
        let b = hex_sha256(b"b");
        let c = SeedCommitment::new(vec![
            party(" 街道办 ", &a),
            party("公证处", &format!(" {b}")),
        ])
        .unwrap();
        assert_eq!(
            c.parties(),
            &[
                party("街道办", &a.to_ascii_lowercase()),
                party("公证处", &b)
            ]
        );
        let refused = |parties: Vec<CommittedParty>| {
            let e = SeedCommitment::new(parties);
            assert!(matches!(e, Err(LotteryError::Commitment(_))), "{e:?}");
        };
        refused(vec![party("街道办", &b)]);
        refused(vec![]);
        refused(vec![party("", &a), party("公证处", &b)]);
        refused(vec![party("街道\n办", &a), party("公证处", &b)]);
        refused(vec![party(&"长".repeat(41), &a), party("公证处", &b)]);
        refused(vec![party("公证处", &a), party("公证处", &b)]);
        refused(vec![party("街道办", &a), party("公证处", &a)]);
        refused(vec![party("街道办", &a[..63]), party("公证处", &b)]);
        refused(vec![party("街道办", &"g".repeat(64)), party("公证处", &b)]);
        refused(vec![party("街道办", &hex_sha256(b"")), party("公证处", &b)]);
        assert!(
            SeedCommitment::new(vec![party(&"长".repeat(40), &a), party("公证处", &b)]).is_ok()
        );
        // One read from a proof is not normalised: uppercase there is refused.
        let raw: SeedCommitment = serde_json::from_value(serde_json::json!({
            "parties": [{"party": "街道办", "sha256": a}, {"party": "公证处", "sha256": b}]
        }))
        .unwrap();
        assert!(matches!(raw.check(), Err(LotteryError::Commitment(_))));
    }

    #[test]
    fn reveals_must_answer_every_commitment_exactly_once() {
        let c = vector_commitment();
        let derive = |reveals: &[Reveal]| derive_seed(VECTOR_LIST_SHA256, &c, "038271", reveals);
        let mut wrong = vector_reveals();
        wrong[1].secret = "村民代表 第三组 7742".into();
        assert_eq!(
            derive(&wrong),
            Err(LotteryError::RevealMismatch {
                party: "村民代表".into()
            })
        );
        let missing = &vector_reveals()[..2];
        assert_eq!(
            derive(missing),
            Err(LotteryError::RevealMissing {
                party: "公证处".into()
            })
        );
        let mut twice = vector_reveals();
        twice.push(twice[0].clone());
        assert_eq!(
            derive(&twice),
            Err(LotteryError::RevealDuplicate {
                party: "街道办".into()
            })
        );
        let mut unknown = vector_reveals();
        unknown.push(reveal("物业", "x"));
        assert_eq!(
            derive(&unknown),
            Err(LotteryError::RevealUnknown {
                party: "物业".into()
            })
        );
        for bad in ["", "a\nb", "a\rb", &"x".repeat(201)] {
            let mut r = vector_reveals();
            r[2].secret = bad.into();
            assert_eq!(
                derive(&r),
                Err(LotteryError::Secret {
                    party: "公证处".into()
                }),
                "{bad:?}"
            );
        }
        for bad in ["03827", "0382710", "03827a", ""] {
            assert_eq!(
                derive_seed(VECTOR_LIST_SHA256, &c, bad, &vector_reveals()),
                Err(LotteryError::PublicNumber),
                "{bad:?}"
            );
        }
        // A 200-character secret of Chinese characters is 600 bytes and allowed.
        let long = "秘".repeat(200);
        let c2 = SeedCommitment::new(vec![
            party("甲", &hex_sha256(long.as_bytes())),
            party("乙", &hex_sha256(b"y")),
        ])
        .unwrap();
        assert!(derive_seed(
            VECTOR_LIST_SHA256,
            &c2,
            "000000",
            &[reveal("乙", "y"), reveal("甲", &long)]
        )
        .is_ok());
    }

    #[test]
    fn verify_checks_the_commitment_the_reveals_and_the_derived_seed() {
        let p = vector_proof();
        // A seed chosen by hand, with the order redrawn to fit it, is consistent except for the
        // derivation: the grinding the commitment prevents.
        let mut ground = p.clone();
        ground.seed = "038271:ground".into();
        ground.order = draw(
            &ground.list,
            &ground.list_sha256,
            &Seed::parse(&ground.seed).unwrap(),
        );
        assert!(matches!(
            ground.verify(),
            Err(LotteryError::SeedNotDerived { derived, .. }) if derived == VECTOR_SEED
        ));
        let mut number = p.clone();
        number.public_number = Some("038272".into());
        assert!(matches!(
            number.verify(),
            Err(LotteryError::SeedNotDerived { .. })
        ));
        let mut hash = p.clone();
        hash.seed_commitment.as_mut().unwrap().parties[0].sha256 = hex_sha256(b"other");
        assert_eq!(
            hash.verify(),
            Err(LotteryError::RevealMismatch {
                party: "街道办".into()
            })
        );
        let mut renamed = p.clone();
        renamed.seed_commitment.as_mut().unwrap().parties[2].party = "律师".into();
        assert_eq!(
            renamed.verify(),
            Err(LotteryError::RevealUnknown {
                party: "公证处".into()
            })
        );
        let mut one_party = p.clone();
        one_party
            .seed_commitment
            .as_mut()
            .unwrap()
            .parties
            .truncate(1);
        assert!(matches!(
            one_party.verify(),
            Err(LotteryError::Commitment(_))
        ));
        let mut secret = p.clone();
        secret.reveals[2].secret = "GZ-notary-0043".into();
        assert_eq!(
            secret.verify(),
            Err(LotteryError::RevealMismatch {
                party: "公证处".into()
            })
        );
        let mut dropped = p.clone();
        dropped.reveals.remove(1);
        assert_eq!(
            dropped.verify(),
            Err(LotteryError::RevealMissing {
                party: "村民代表".into()
            })
        );
        let mut no_number = p.clone();
        no_number.public_number = None;
        assert_eq!(no_number.verify(), Err(LotteryError::PublicNumber));
        let mut spaced = p.clone();
        spaced.public_number = Some(" 038271".into());
        assert_eq!(spaced.verify(), Err(LotteryError::PublicNumber));
        let mut uncommitted = p.clone();
        uncommitted.seed_commitment = None;
        assert_eq!(uncommitted.verify(), Err(LotteryError::Uncommitted));
        uncommitted.reveals.clear();
        assert_eq!(uncommitted.verify(), Err(LotteryError::Uncommitted));
        uncommitted.public_number = None;
        assert_eq!(uncommitted.verify(), Ok(()), "a plain seed as entered");
        // The list is bound into the seed too: another list, another seed.
        let mut more = vector_list();
        more.push("c".into());
        let other =
            Proof::make_committed(more, &vector_commitment(), "038271", &vector_reveals()).unwrap();
        assert_ne!(other.seed, p.seed);
    }

    #[test]
    fn a_proof_is_checked_against_what_was_published() {
        let p = vector_proof();
        assert_eq!(
            p.verify_published(VECTOR_LIST_SHA256, &vector_commitment()),
            Ok(())
        );
        assert_eq!(
            p.verify_published(&hex_sha256(b"x"), &vector_commitment()),
            Err(LotteryError::NotAsPublished("list hash"))
        );
        // A whole new commitment with matching reveals verifies in itself, not as published.
        let forged_commitment = SeedCommitment::new(vec![
            party("街道办", &hex_sha256(b"mine")),
            party("村民代表", &hex_sha256(b"also mine")),
        ])
        .unwrap();
        let forged = Proof::make_committed(
            vector_list(),
            &forged_commitment,
            "038271",
            &[reveal("街道办", "mine"), reveal("村民代表", "also mine")],
        )
        .unwrap();
        assert_eq!(forged.verify(), Ok(()));
        assert_eq!(
            forged.verify_published(VECTOR_LIST_SHA256, &vector_commitment()),
            Err(LotteryError::NotAsPublished("seed commitment"))
        );
        let plain = Proof::make(vector_list(), &Seed::parse("038271").unwrap()).unwrap();
        assert_eq!(
            plain.verify_published(VECTOR_LIST_SHA256, &vector_commitment()),
            Err(LotteryError::NotAsPublished("seed commitment"))
        );
    }

    #[test]
    fn committed_and_old_proofs_round_trip_through_json() {
        let p = vector_proof();
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(
            json["seed_commitment"]["parties"][1],
            serde_json::json!({"party": "村民代表", "sha256": VECTOR_SECRETS[1].2})
        );
        assert_eq!(json["public_number"], "038271");
        assert_eq!(json["reveals"][2]["secret"], "GZ-notary-0042");
        let back: Proof = serde_json::from_str(&serde_json::to_string_pretty(&p).unwrap()).unwrap();
        assert_eq!(back, p);
        assert_eq!(back.verify(), Ok(()));
        // A proof written before commitments reads, verifies and writes back unchanged.
        let old = r#"{"algorithm":"yongxin-lottery-v1","list":["B","a","b","東"],"list_sha256":"2a9a0ac740be3e8fa2141691b9ebc2feb0e4779a5a170c381c30aa497ea59424","seed":"123456:published","order":["東","b","a","B"]}"#;
        let parsed: Proof = serde_json::from_str(old).unwrap();
        assert_eq!(parsed.seed_commitment, None);
        assert_eq!(
            parsed,
            Proof::make(vector_list(), &Seed::parse("123456:published").unwrap()).unwrap()
        );
        assert_eq!(parsed.verify(), Ok(()));
        assert_eq!(serde_json::to_string(&parsed).unwrap(), old);
    }

    #[test]
    fn with_the_secrets_unknown_only_the_public_number_is_left_and_it_changes_the_seed() {
        // The operator knows the commitment and its own secret, not the others' (here: the
        // vector's). Every public number gives another seed and, over a real list, another order;
        // which one is best for a household is unknowable before the other parties reveal.
        let list = canonical_list(codes(500)).unwrap();
        let hash = list_sha256(&list);
        let c = vector_commitment();
        let seeds: Vec<Seed> = ["038271", "038272", "000000", "999999"]
            .iter()
            .map(|n| derive_seed(&hash, &c, n, &vector_reveals()).unwrap())
            .collect();
        for (i, a) in seeds.iter().enumerate() {
            for b in &seeds[i + 1..] {
                assert_ne!(a, b);
                assert_ne!(draw(&list, &hash, a), draw(&list, &hash, b));
            }
        }
        // Each secret matters as much: one party's other secret, another seed.
        let other_secret = "another-passphrase-9931";
        let mut parties = c.parties().to_vec();
        parties[2].sha256 = hex_sha256(other_secret.as_bytes());
        let c2 = SeedCommitment::new(parties).unwrap();
        let mut reveals = vector_reveals();
        reveals[2].secret = other_secret.into();
        assert_ne!(
            derive_seed(&hash, &c2, "038271", &reveals).unwrap(),
            seeds[0]
        );
    }

    #[test]
    fn the_seed_rule_names_every_party_and_how_the_seed_is_made() {
        let text = seed_rule_zh(VECTOR_LIST_SHA256, &vector_commitment());
        for (i, (p, _, h)) in VECTOR_SECRETS.iter().enumerate() {
            assert!(text.contains(&format!("{}. {p}：{h}", i + 1)), "{text}");
        }
        for needed in [
            VECTOR_LIST_SHA256,
            SEED_DERIVATION,
            "3 方",
            "公开号",
            "当众",
            "重新摇号",
            "yongxin lottery verify",
            "tools/verify_lottery.py",
        ] {
            assert!(text.contains(needed), "{needed}: {text}");
        }
    }
}
