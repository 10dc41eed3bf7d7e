//! 审计记录: the append-only, hash-chained record of every change.
//!
//! Each entry's hash is SHA-256 over its canonical encoding: the compact JSON array
//! `["yongxin-audit-v1", seq, at, actor, action, entity, summary, digest, prev_hash]`, where `seq`
//! is a JSON number, `at` is UTC in RFC 3339 with exactly six fractional digits and a `Z`
//! (`2026-11-27T02:22:39.123456Z`), and every other field is a JSON string. The first entry's
//! `prev_hash` is 64 zeros. Editing, deleting or reordering any entry changes a hash that a later
//! entry (or the stored head) still names, which [`verify_chain`] reports.

use chrono::{DateTime, SubsecRound, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A change about to be recorded, before it has a place in the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEntry {
    /// Who acted: a user name, or `system:<command>` for the command line.
    pub actor: String,
    /// What was done, as a dotted code (`household.import`, `resident.view_full`).
    pub action: String,
    /// What it was done to (`household:12`).
    pub entity: String,
    /// A short readable description without personal data.
    pub summary: String,
    /// SHA-256 (hex) of the canonical JSON of what changed; see [`digest_of`].
    pub digest: String,
}

impl NewAuditEntry {
    /// A new entry whose digest is computed from the changed values.
    pub fn new(
        actor: impl Into<String>,
        action: impl Into<String>,
        entity: impl Into<String>,
        summary: impl Into<String>,
        changed: &serde_json::Value,
    ) -> Self {
        Self {
            actor: actor.into(),
            action: action.into(),
            entity: entity.into(),
            summary: summary.into(),
            digest: digest_of(changed),
        }
    }

    /// Places the entry in the chain after `prev_hash`, at sequence `seq` and time `at`.
    pub fn seal(self, seq: i64, at: DateTime<Utc>, prev_hash: &str) -> AuditEntry {
        let at = at.trunc_subsecs(6);
        let mut entry = AuditEntry {
            seq,
            at,
            actor: self.actor,
            action: self.action,
            entity: self.entity,
            summary: self.summary,
            digest: self.digest,
            prev_hash: prev_hash.to_owned(),
            hash: String::new(),
        };
        entry.hash = entry.compute_hash();
        entry
    }
}

/// One entry of the record as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// Position in the chain, from 1 without gaps.
    pub seq: i64,
    /// When the change was committed (UTC, microseconds).
    pub at: DateTime<Utc>,
    /// Who acted.
    pub actor: String,
    /// What was done.
    pub action: String,
    /// What it was done to.
    pub entity: String,
    /// A short readable description.
    pub summary: String,
    /// Digest of what changed.
    pub digest: String,
    /// Hash of the entry before.
    pub prev_hash: String,
    /// This entry's hash over its canonical encoding.
    pub hash: String,
}

impl AuditEntry {
    /// The canonical encoding the hash is taken over.
    pub fn canonical_encoding(&self) -> String {
        let at = self.at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
        serde_json::json!([
            "yongxin-audit-v1",
            self.seq,
            at,
            self.actor,
            self.action,
            self.entity,
            self.summary,
            self.digest,
            self.prev_hash
        ])
        .to_string()
    }

    /// SHA-256 (hex) of the canonical encoding.
    pub fn compute_hash(&self) -> String {
        hex::encode(Sha256::digest(self.canonical_encoding().as_bytes()))
    }
}

/// SHA-256 (hex) of the compact JSON of a value; object keys are sorted, so equal values digest
/// equally.
pub fn digest_of(value: &serde_json::Value) -> String {
    hex::encode(Sha256::digest(value.to_string().as_bytes()))
}

/// What a verified chain amounts to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedChain {
    /// How many entries were checked.
    pub entries: u64,
    /// The last entry's hash (the genesis hash for an empty record).
    pub head_hash: String,
    /// The sequence number of the entry whose hash is the published head the walk looked for
    /// (a head once published in a notice); `None` when it is not in the record — the record
    /// was rewritten since, or it is another office's.
    pub published_at: Option<i64>,
}

/// The first place where the record was altered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuditChainError {
    /// An entry is missing or out of order: `found` stands where `expected` should.
    #[error("sequence {expected}: entry missing or out of order (found {found})")]
    Sequence {
        /// The sequence number that should come next.
        expected: i64,
        /// The sequence number actually found.
        found: i64,
    },
    /// The entry's content no longer matches its hash: it was edited.
    #[error("sequence {seq}: content does not match its hash (edited)")]
    Hash {
        /// The altered entry.
        seq: i64,
    },
    /// The entry does not name the hash of the one before it.
    #[error("sequence {seq}: does not follow the entry before it (previous hash differs)")]
    Link {
        /// The entry whose link is broken.
        seq: i64,
    },
    /// The record ends before the stored head: its last entries were deleted.
    #[error("sequence {seq}: entries from here on are missing (the stored head is {head_seq})")]
    Truncated {
        /// The first missing sequence number.
        seq: i64,
        /// The sequence number of the stored head.
        head_seq: i64,
    },
}

impl AuditChainError {
    /// The first sequence number found bad.
    pub fn first_bad_seq(&self) -> i64 {
        match self {
            AuditChainError::Sequence { expected, .. } => *expected,
            AuditChainError::Hash { seq } | AuditChainError::Link { seq } => *seq,
            AuditChainError::Truncated { seq, .. } => *seq,
        }
    }
}

/// Incremental verifier, so a store can stream millions of entries through it.
#[derive(Debug)]
pub struct ChainVerifier {
    expected_seq: i64,
    prev_hash: String,
    published: Option<String>,
    published_at: Option<i64>,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self {
            expected_seq: 1,
            prev_hash: GENESIS_HASH.to_owned(),
            published: None,
            published_at: None,
        }
    }
}

impl ChainVerifier {
    /// A verifier that also looks for a head published earlier: a chain rewritten and rehashed
    /// from some entry on is consistent again, but no longer holds that hash.
    pub fn looking_for(published_head: &str) -> Self {
        Self {
            published: Some(published_head.trim().to_ascii_lowercase()),
            ..Self::default()
        }
    }

    /// Checks the next entry.
    pub fn push(&mut self, entry: &AuditEntry) -> Result<(), AuditChainError> {
        if entry.seq != self.expected_seq {
            return Err(AuditChainError::Sequence {
                expected: self.expected_seq,
                found: entry.seq,
            });
        }
        if entry.compute_hash() != entry.hash {
            return Err(AuditChainError::Hash { seq: entry.seq });
        }
        if entry.prev_hash != self.prev_hash {
            return Err(AuditChainError::Link { seq: entry.seq });
        }
        if self.published.as_deref() == Some(entry.hash.as_str()) {
            self.published_at = Some(entry.seq);
        }
        self.expected_seq += 1;
        self.prev_hash.clone_from(&entry.hash);
        Ok(())
    }

    /// Ends the walk, comparing with the head the store keeps beside the record.
    pub fn finish(
        self,
        stored_head: Option<(i64, &str)>,
    ) -> Result<VerifiedChain, AuditChainError> {
        let last_seq = self.expected_seq - 1;
        if let Some((head_seq, head_hash)) = stored_head {
            if head_seq > last_seq {
                return Err(AuditChainError::Truncated {
                    seq: last_seq + 1,
                    head_seq,
                });
            }
            if head_seq == last_seq && head_hash != self.prev_hash {
                return Err(AuditChainError::Hash { seq: last_seq });
            }
        }
        Ok(VerifiedChain {
            entries: u64::try_from(last_seq).unwrap_or(0),
            head_hash: self.prev_hash,
            published_at: self.published_at,
        })
    }
}

/// The ISO week a day falls in, as weekly publications name it (`2026-W49`).
pub fn iso_week(day: chrono::NaiveDate) -> String {
    day.format("%G-W%V").to_string()
}

/// The weekly notice of the record's head (审计记录公告): anyone who keeps it can later check,
/// with `yongxin audit verify --head`, that the record up to that entry was not rewritten.
pub fn head_notice(
    week: &str,
    seq: i64,
    hash: &str,
    now: DateTime<Utc>,
) -> crate::notice::NoticeDraft {
    crate::notice::NoticeDraft {
        kind: crate::notice::NoticeKind::Progress,
        scope: crate::notice::ScopeKind::Subdistrict,
        village_ids: Vec::new(),
        project_id: None,
        title: format!("操作记录校验公告（{week}）"),
        body: format!(
            "本平台的每一项操作都记入首尾相连的操作记录，任何改动都会被发现。截至 {}，操作记录共 {seq} 条，最后一条的校验值为：\n\n{hash}\n\n请保存本公告。日后任何人都可以请街道用命令 yongxin audit verify --head {hash} 当面核对：若此前的记录被改写，核对不会通过。",
            crate::time::display_local(now)
        ),
        publish_at: now,
        end_at: None,
        objections_until: None,
    }
}

/// Verifies a whole chain held in memory.
pub fn verify_chain<'a>(
    entries: impl IntoIterator<Item = &'a AuditEntry>,
    stored_head: Option<(i64, &str)>,
) -> Result<VerifiedChain, AuditChainError> {
    let mut verifier = ChainVerifier::default();
    for entry in entries {
        verifier.push(entry)?;
    }
    verifier.finish(stored_head)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn chain(n: i64) -> Vec<AuditEntry> {
        let mut prev = GENESIS_HASH.to_owned();
        (1..=n)
            .map(|seq| {
                let at = Utc
                    .timestamp_opt(1_700_000_000 + seq, 123_456_789)
                    .single()
                    .expect("time");
                let e = NewAuditEntry::new(
                    "admin",
                    "household.update",
                    format!("household:{seq}"),
                    "edit",
                    &serde_json::json!({"n": seq}),
                )
                .seal(seq, at, &prev);
                prev.clone_from(&e.hash);
                e
            })
            .collect()
    }

    fn head(c: &[AuditEntry]) -> Option<(i64, &str)> {
        c.last().map(|e| (e.seq, e.hash.as_str()))
    }

    #[test]
    fn an_untouched_chain_verifies() {
        let c = chain(5);
        let v = verify_chain(&c, head(&c)).expect("valid");
        assert_eq!(v.entries, 5);
        assert_eq!(v.head_hash, c[4].hash);
        assert_eq!(
            verify_chain(&[], None).expect("empty").head_hash,
            GENESIS_HASH
        );
    }

    #[test]
    fn a_rewritten_and_rehashed_chain_no_longer_holds_a_published_head() {
        let c = chain(6);
        let published = c[3].hash.clone();
        let walk = |entries: &[AuditEntry]| {
            let mut v = ChainVerifier::looking_for(&published.to_ascii_uppercase());
            for e in entries {
                v.push(e).expect("consistent");
            }
            v.finish(head(entries)).expect("consistent")
        };
        assert_eq!(walk(&c).published_at, Some(4));
        // Someone with the database rewrites entry 3 and rehashes everything after it: the chain
        // is consistent again, and only the published head gives it away.
        let mut forged = c[..2].to_vec();
        let mut prev = c[1].hash.clone();
        for e in &c[2..] {
            let mut n = NewAuditEntry::new(
                e.actor.clone(),
                e.action.clone(),
                e.entity.clone(),
                e.summary.clone(),
                &serde_json::json!({"n": e.seq}),
            );
            if e.seq == 3 {
                n.summary = "nothing happened".into();
            }
            let sealed = n.seal(e.seq, e.at, &prev);
            prev.clone_from(&sealed.hash);
            forged.push(sealed);
        }
        let v = walk(&forged);
        assert_eq!(v.entries, 6);
        assert_eq!(v.published_at, None);
        // A head from before the rewrite still stands.
        let mut early = ChainVerifier::looking_for(&c[1].hash);
        for e in &forged {
            early.push(e).expect("consistent");
        }
        assert_eq!(
            early.finish(head(&forged)).expect("ok").published_at,
            Some(2)
        );
    }

    #[test]
    fn weeks_are_iso_weeks_and_the_notice_names_its_head() {
        let d = |y, m, day| chrono::NaiveDate::from_ymd_opt(y, m, day).expect("day");
        assert_eq!(iso_week(d(2026, 12, 7)), "2026-W50");
        assert_eq!(iso_week(d(2027, 1, 1)), "2026-W53");
        assert_eq!(iso_week(d(2025, 12, 29)), "2026-W01");
        let n = head_notice("2026-W50", 42, "abc123", Utc::now());
        assert!(n.title.contains("2026-W50"));
        assert!(n.body.contains("42") && n.body.contains("--head abc123"));
        assert!(n.checked().is_ok());
    }

    #[test]
    fn the_encoding_is_the_documented_one() {
        let c = chain(1);
        assert_eq!(
            c[0].canonical_encoding(),
            format!(
                r#"["yongxin-audit-v1",1,"2023-11-14T22:13:21.123456Z","admin","household.update","household:1","edit","{}","{GENESIS_HASH}"]"#,
                c[0].digest
            )
        );
        assert_eq!(c[0].hash.len(), 64);
    }

    #[test]
    fn an_edit_is_caught_at_its_sequence() {
        let mut c = chain(5);
        c[2].summary = "something else".into();
        assert_eq!(
            verify_chain(&c, head(&c)),
            Err(AuditChainError::Hash { seq: 3 })
        );
    }

    #[test]
    fn an_edit_with_a_recomputed_hash_breaks_the_next_link() {
        let mut c = chain(5);
        c[2].actor = "mallory".into();
        c[2].hash = c[2].compute_hash();
        assert_eq!(
            verify_chain(&c, head(&c)),
            Err(AuditChainError::Link { seq: 4 })
        );
    }

    #[test]
    fn a_deletion_is_caught() {
        let mut c = chain(5);
        c.remove(1);
        let err = verify_chain(&c, head(&c)).expect_err("gap");
        assert_eq!(err.first_bad_seq(), 2);
    }

    #[test]
    fn a_reordering_is_caught() {
        let mut c = chain(5);
        c.swap(1, 3);
        assert_eq!(
            verify_chain(&c, None).expect_err("order").first_bad_seq(),
            2
        );
    }

    #[test]
    fn deleting_the_tail_is_caught_by_the_stored_head() {
        let c = chain(5);
        let h = head(&c);
        assert_eq!(
            verify_chain(&c[..3], h),
            Err(AuditChainError::Truncated {
                seq: 4,
                head_seq: 5
            })
        );
    }

    #[test]
    fn digests_do_not_depend_on_key_order() {
        let a: serde_json::Value = serde_json::from_str(r#"{"a":1,"b":2}"#).expect("json");
        let b: serde_json::Value = serde_json::from_str(r#"{"b":2,"a":1}"#).expect("json");
        assert_eq!(digest_of(&a), digest_of(&b));
    }
}
