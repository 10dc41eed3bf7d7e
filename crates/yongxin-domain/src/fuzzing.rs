//! The checks the fuzz targets under `fuzz/` run, one per parser of outside input in this crate.
//!
//! They live here, not in the fuzz crate, so that `cargo test` replays the committed corpus
//! (`fuzz/corpus/<target>/`) through exactly the code the fuzzers run (`tests/fuzz_corpus.rs`).
//! Each takes the raw input and panics only when a property fails: a parser that refuses an input
//! is fine; one that panics on it, or accepts it and then breaks its own promises, is a finding.

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDate, TimeZone, Utc};

use crate::appeal::Urgency;
use crate::calendar::{WorkingCalendar, YearCalendar};
use crate::catalogue::Category;
use crate::consultation::{parse_questions, QuestionDraft, QuestionKind};
use crate::lottery::Proof;
use crate::money::Qty;
use crate::photo::{clean, PhotoKind};
use crate::resettlement::entitlement::{
    compute, eligible_members, layout_combination, CountedFixture, HouseholdInputs,
    MeasuredStructure, MemberFacts,
};
use crate::resettlement::policy::Policy;
use crate::roster::{validate, HouseholdRecord, RegistryLookup, RosterRow};

/// A fuzz target's name (its corpus directory) and its check.
pub type Target = (&'static str, fn(&[u8]));

/// The targets whose checks are in this crate.
pub const TARGETS: &[Target] = &[
    ("policy_toml", policy_toml),
    ("consultation_questions", consultation_questions),
    ("calendar_toml", calendar_toml),
    ("lottery_proof", lottery_proof),
    ("photo", photo),
    ("categories", categories),
];

/// Every form a web form's text reaches a parser in is UTF-8 already; other bytes are not input.
fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// Policy TOML ([`Policy::from_toml`]): an accepted policy renders, lists its catalogue and
/// computes an entitlement for a household that uses every rate it defines, without panicking.
pub fn policy_toml(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let Ok(policy) = Policy::from_toml(text) else {
        return;
    };
    let rendered = policy.render_zh();
    assert!(rendered.contains(policy.title.as_str()));
    let units = policy.units();
    assert!(units.len() <= crate::resettlement::policy::MAX_UNITS);
    // Two members: one before the cutoff with every flag the policy weighs, one newborn.
    let members = eligible_members(
        &policy,
        &[
            MemberFacts {
                resident_id: 1,
                name: "甲".into(),
                birth_date: policy.eligibility.cutoff,
                registered_since: None,
                flags: policy.eligibility.flags.iter().map(|f| f.flag).collect(),
            },
            MemberFacts {
                resident_id: 2,
                name: "乙".into(),
                birth_date: policy
                    .eligibility
                    .newborns_until
                    .unwrap_or(policy.effective),
                registered_since: None,
                flags: Vec::new(),
            },
        ],
    );
    let inputs = HouseholdInputs {
        members,
        structures: policy
            .structures
            .iter()
            .map(|s| MeasuredStructure {
                kind: s.kind,
                condition: s.condition.clone(),
                area: Qty::whole(120),
            })
            .collect(),
        fixtures: policy
            .fixtures
            .iter()
            .map(|f| CountedFixture {
                code: f.code.clone(),
                quantity: Qty::whole(3),
            })
            .collect(),
    };
    let Ok((_, entitled)) =
        crate::resettlement::entitlement::entitled_area(&policy, &inputs.members)
    else {
        return;
    };
    let codes: Vec<String> = policy.layouts.iter().map(|l| l.code.clone()).collect();
    let chosen = layout_combination(&policy, entitled, &codes).unwrap_or_default();
    let signed = policy.rewards.first().map(|r| r.signed_by);
    let _ = compute(&policy, &inputs, &chosen, signed);
}

/// Consultation questions in their plain-text form ([`parse_questions`]): what is accepted keeps
/// the documented limits, and written back in the same form it reads back the same.
pub fn consultation_questions(data: &[u8]) {
    use crate::consultation::{MAX_OPTIONS, MAX_PROMPT_CHARS, MAX_QUESTIONS};
    let Some(text) = text(data) else { return };
    let Ok(questions) = parse_questions(text) else {
        return;
    };
    assert!((1..=MAX_QUESTIONS).contains(&questions.len()));
    for q in &questions {
        assert!(!q.prompt.is_empty() && q.prompt.chars().count() <= MAX_PROMPT_CHARS);
        assert_eq!(q.prompt.trim(), q.prompt);
        match q.kind {
            QuestionKind::Text => assert!(q.options.is_empty() && q.max_choices.is_none()),
            kind => {
                assert!((2..=MAX_OPTIONS).contains(&q.options.len()));
                assert!(q.required);
                let max = q.max_choices.map(|m| m as usize);
                if kind == QuestionKind::Multiple {
                    assert!(max.is_some_and(|m| (1..=q.options.len()).contains(&m)));
                } else {
                    assert_eq!(max, None);
                }
            }
        }
        for (i, o) in q.options.iter().enumerate() {
            assert!(!o.is_empty() && o.chars().count() <= MAX_PROMPT_CHARS);
            assert!(!q.options[..i].contains(o), "options are unique");
        }
    }
    let again = parse_questions(&questions_text(&questions));
    assert_eq!(again.as_ref(), Ok(&questions));
}

/// Questions written in the documented plain-text form, English headings.
fn questions_text(questions: &[QuestionDraft]) -> String {
    let mut out = String::new();
    for q in questions {
        if q.kind == QuestionKind::Text && q.required {
            out.push('*');
        }
        out.push_str(q.kind.code());
        if let (QuestionKind::Multiple, Some(max)) = (q.kind, q.max_choices) {
            out.push_str(&format!("({max})"));
        }
        out.push_str(": ");
        out.push_str(&q.prompt);
        out.push('\n');
        for o in &q.options {
            out.push_str("- ");
            out.push_str(o);
            out.push('\n');
        }
    }
    out
}

/// A year's calendar TOML ([`YearCalendar::parse`]): an accepted year has its days in that year,
/// workdays on weekends and apart from holidays, and deadlines counted over it end.
pub fn calendar_toml(data: &[u8]) {
    use chrono::Datelike;
    let Some(text) = text(data) else { return };
    let Ok(year) = YearCalendar::parse(text) else {
        return;
    };
    let y = year.year();
    assert!(year
        .holidays()
        .chain(year.workdays())
        .all(|d| d.year() == y));
    let mut calendar = WorkingCalendar::default();
    calendar.load(year.clone());
    for d in year.workdays() {
        assert!(calendar.is_working_day(d));
    }
    for d in year.holidays() {
        assert!(!calendar.is_working_day(d));
    }
    let Some(start) = NaiveDate::from_ymd_opt(y, 1, 1) else {
        return;
    };
    // The longest deadline a category may set is 60 working days.
    let end = calendar.add_working_days(start, 60);
    assert_eq!(calendar.working_days_between(start, end), 60);
    let submitted = Utc.from_utc_datetime(&start.and_hms_opt(12, 0, 0).unwrap_or_default());
    let due = calendar.resolution_deadline(submitted, 60);
    assert!(due > submitted);
}

/// A lottery proof as `yongxin lottery verify` reads it (JSON, then [`Proof::verify`]): a proof
/// that verifies still verifies after writing it out and reading it back, and one without a
/// commitment is exactly the proof a new draw over its list and seed makes.
pub fn lottery_proof(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let Ok(proof) = serde_json::from_str::<Proof>(text) else {
        return;
    };
    if proof.verify().is_err() {
        return;
    }
    let written = serde_json::to_string(&proof).unwrap_or_default();
    let again: Proof = serde_json::from_str(&written).unwrap_or_else(|e| panic!("{e}: {written}"));
    assert_eq!(again, proof);
    assert_eq!(again.verify(), Ok(()));
    match &proof.seed_commitment {
        Some(commitment) => {
            assert_eq!(
                proof.verify_published(&proof.list_sha256, commitment),
                Ok(())
            );
        }
        None => {
            let seed = crate::lottery::Seed::parse(&proof.seed);
            let remade = seed.and_then(|s| Proof::make(proof.list.clone(), &s));
            assert_eq!(remade.as_ref(), Ok(&proof));
        }
    }
}

/// The photo limit in these checks: far above what any fuzz input reaches, so that growing a
/// file (an orientation block written where none was) is never refused as too large.
const PHOTO_MAX: usize = 1 << 24;

/// A photo upload ([`clean`]): what is accepted is already clean (cleaning it again changes
/// nothing), keeps its kind and carries none of the metadata blocks cleaning removes.
pub fn photo(data: &[u8]) {
    let Ok(once) = clean(data, PHOTO_MAX) else {
        return;
    };
    assert_eq!(PhotoKind::sniff(&once.bytes), Some(once.kind));
    let twice = clean(&once.bytes, PHOTO_MAX);
    assert_eq!(twice.as_ref(), Ok(&once));
    if once.kind == PhotoKind::Jpeg {
        assert!(once.bytes.ends_with(&[0xFF, 0xD9]));
    }
}

/// A category definition as an administrator writes it ([`Category::from_toml`]): an accepted one
/// reads back the same from the TOML its edit page shows and from the JSON the store keeps, and
/// gives deadlines and answer checks without panicking.
pub fn categories(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let Ok(category) = Category::from_toml(text) else {
        return;
    };
    let shown = toml::to_string_pretty(&category).unwrap_or_else(|e| panic!("{e}"));
    let edited = Category::from_toml(&shown).unwrap_or_else(|e| panic!("{e}: {shown}"));
    assert_eq!(edited, category);
    let stored = serde_json::to_string(&category).unwrap_or_default();
    let loaded: Category = serde_json::from_str(&stored).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(loaded, category);
    let calendar = WorkingCalendar::official();
    let at = Utc.with_ymd_and_hms(2026, 2, 13, 17, 0, 0).single();
    for urgency in [Urgency::Normal, Urgency::Urgent] {
        if let Some(at) = at {
            let due = category.deadlines(urgency, at, &calendar);
            assert!(due.contact_due > at && due.resolution_due > at);
        }
    }
    // Each question answered with its first choice, or with a value of its kind.
    let answers: BTreeMap<String, Vec<String>> = category
        .questions
        .iter()
        .map(|q| {
            let value = q.choices.first().map_or("2026-02-13", |c| c.key.as_str());
            (q.code.clone(), vec![value.to_owned()])
        })
        .collect();
    let _ = category.check_answers(&answers);
}

/// The registry the roster checks validate against: one village by name and code, two grids.
pub fn roster_lookup() -> RegistryLookup {
    RegistryLookup {
        villages: HashMap::from([("东坞村".to_owned(), 1), ("V01".to_owned(), 1)]),
        grids: HashMap::from([
            ((1, "V01-G1".to_owned()), 10),
            ((1, "一网格".to_owned()), 10),
            ((1, "V01-G2".to_owned()), 11),
        ]),
        registered_ids: HashMap::from([("370112198001010014".to_owned(), "H9".to_owned())]),
    }
}

/// Roster rows as read from a file, checked ([`validate`]) against [`roster_lookup`]: what is
/// accepted has one head per household, listed first, and members with the required fields.
pub fn roster_rows(rows: &[RosterRow]) -> Option<Vec<HouseholdRecord>> {
    let households = validate(rows, &roster_lookup()).ok()?;
    for h in &households {
        assert!(!h.key.is_empty());
        let heads = h
            .members
            .iter()
            .filter(|m| m.relation == crate::Relation::Head)
            .count();
        assert_eq!(heads, 1);
        assert_eq!(
            h.members.first().map(|m| m.relation),
            Some(crate::Relation::Head)
        );
        for m in &h.members {
            assert!(!m.name.is_empty());
            assert_eq!(m.id_number.birth_date(), m.birth_date);
            assert_eq!(m.id_number.sex(), m.sex);
        }
    }
    Some(households)
}
