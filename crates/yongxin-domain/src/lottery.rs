//! The lottery (摇号) that orders households for house selection, as a pure function anyone can
//! recompute: the frozen list's canonical encoding and hash, the seed's format, the order, and the
//! proof that carries all of them.
//!
//! Algorithm `yongxin-lottery-v1`:
//! 1. The list is the registered households' codes, each unique, sorted by their UTF-8 bytes. Its
//!    canonical encoding is every code followed by a line feed (`"A\nB\n"`); `list_sha256` is the
//!    lowercase hex SHA-256 of that encoding.
//! 2. The seed is six decimal digits drawn in public, optionally followed by `:` and a value named
//!    in advance and published afterwards (1–64 printable ASCII characters, no spaces).
//! 3. Each household's key is the lowercase hex SHA-256 of `seed + "\n" + list_sha256 + "\n" +
//!    code` (UTF-8). The order sorts households by key (ties, which would need a SHA-256
//!    collision, by code).

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The algorithm's name, written into every proof.
pub const ALGORITHM: &str = "yongxin-lottery-v1";

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

fn hex(digest: &[u8]) -> String {
    let mut out = String::with_capacity(digest.len() * 2);
    for b in digest {
        out.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        out.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
    }
    out
}

fn hex_sha256(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
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
    hex(&hasher.finalize())
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
    /// The seed as entered.
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
            seed: seed.as_str().to_owned(),
            order,
        })
    }

    /// Recomputes the proof: the algorithm, the list's canonical order and hash, the seed's
    /// format and the order; the first thing that does not match is the error.
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
        let seed = Seed::parse(&self.seed)?;
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
}
