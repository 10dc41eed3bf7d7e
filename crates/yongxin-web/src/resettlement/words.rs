//! The calculation in the reader's language: a line's description, unit and group. Chinese is
//! what the domain wrote (the words of the published result, unchanged); other languages are
//! composed from the line's parts, the policy's own names (a fixture, a condition) kept as
//! written.

use yongxin_domain::resettlement::entitlement::{
    ChosenUnit, EligibleMember, EntitlementLine, LineGroup, LineWords, MemberBasis, UnitWords,
};
use yongxin_domain::resettlement::policy::StructureKind;

use crate::http::i18n::{Catalog, Lang};

/// The heading of a group of lines.
pub fn group(catalog: &Catalog, group: LineGroup) -> &str {
    catalog.t(match group {
        LineGroup::Compensation => "entitlement.group_compensation",
        LineGroup::Purchase => "entitlement.group_purchase",
        LineGroup::CashForUnused => "entitlement.group_cash_for_unused",
    })
}

/// What a line is.
pub fn description(catalog: &Catalog, line: &EntitlementLine) -> String {
    if catalog.lang() == Lang::ZhCn || line.words == LineWords::Described {
        return line.description.clone();
    }
    let f = |key: &str, params: &[(&str, String)]| catalog.format(key, params);
    match &line.words {
        LineWords::Described => line.description.clone(),
        LineWords::Structure {
            structure,
            condition,
        } => f(
            "entitlement.line_structure",
            &[
                ("kind", structure_name(catalog, *structure).to_owned()),
                ("condition", condition.clone()),
            ],
        ),
        LineWords::Fixture { name } => name.clone(),
        LineWords::Moving => catalog.t("entitlement.line_moving").to_owned(),
        LineWords::Transition { persons, months } => f(
            "entitlement.line_transition",
            &[("persons", persons.short()), ("months", months.to_string())],
        ),
        LineWords::Reward {
            signed_on,
            signed_by,
        } => f(
            "entitlement.line_reward",
            &[("on", signed_on.to_string()), ("by", signed_by.to_string())],
        ),
        LineWords::WithinEntitlement { units } => f(
            "entitlement.line_within",
            &[("units", unit_labels(catalog, units))],
        ),
        LineWords::Band { from, to } => f(
            "entitlement.line_band",
            &[("from", from.short()), ("to", to.short())],
        ),
        LineWords::Market => catalog.t("entitlement.line_market").to_owned(),
        LineWords::CashForUnused => catalog.t("entitlement.line_unused").to_owned(),
    }
}

/// The unit a line's quantity is counted in.
pub fn unit(catalog: &Catalog, line: &EntitlementLine) -> String {
    if catalog.lang() == Lang::ZhCn {
        return line.unit.clone();
    }
    match line.words {
        LineWords::Moving => catalog.t("entitlement.unit_move").to_owned(),
        LineWords::Transition { .. } => catalog.t("entitlement.unit_person_month").to_owned(),
        LineWords::Reward { .. } => catalog.t("entitlement.unit_household").to_owned(),
        _ => line.unit.clone(),
    }
}

/// A unit of a purchase.
pub fn unit_label(catalog: &Catalog, unit: &ChosenUnit) -> String {
    if catalog.lang() == Lang::ZhCn {
        return unit.label.clone();
    }
    match &unit.words {
        UnitWords::Named => unit.label.clone(),
        UnitWords::Layout { code, name } => catalog.format(
            "entitlement.unit_layout",
            &[("code", code.clone()), ("name", name.clone())],
        ),
        UnitWords::LayoutToChoose { code } => catalog.format(
            "entitlement.unit_layout_to_choose",
            &[("code", code.clone())],
        ),
    }
}

/// Units of a purchase, one after another.
pub fn unit_labels(catalog: &Catalog, units: &[ChosenUnit]) -> String {
    units
        .iter()
        .map(|u| unit_label(catalog, u))
        .collect::<Vec<_>>()
        .join(catalog.t("list.separator"))
}

/// Why a member counts as they do.
pub fn member_basis(catalog: &Catalog, member: &EligibleMember) -> String {
    if catalog.lang() == Lang::ZhCn {
        return member.basis.clone();
    }
    let f = |key: &str, params: &[(&str, String)]| catalog.format(key, params);
    match &member.why {
        MemberBasis::Described => member.basis.clone(),
        MemberBasis::Flagged { flag, clause } => f(
            "entitlement.basis_flagged",
            &[
                (
                    "flag",
                    catalog.t(&format!("flag.{}", flag.code())).to_owned(),
                ),
                ("clause", clause.clone()),
            ],
        ),
        MemberBasis::Registered { cutoff, clause } => f(
            "entitlement.basis_registered",
            &[("cutoff", cutoff.to_string()), ("clause", clause.clone())],
        ),
        MemberBasis::Newborn { clause } => {
            f("entitlement.basis_newborn", &[("clause", clause.clone())])
        }
        MemberBasis::MovedInAfter { since, clause } => f(
            "entitlement.basis_moved_in_after",
            &[("since", since.to_string()), ("clause", clause.clone())],
        ),
    }
}

/// The phrases the system writes as the reason of a calculation (stored with the result, in
/// Chinese), longest first, with their keys.
const REASON_PHRASES: [(&str, &str); 12] = [
    (
        "按已选房源及待选户型",
        "entitlement.reason_units_and_layouts",
    ),
    ("（待选户型未计入）", "entitlement.reason_layouts_left_out"),
    ("已放弃剩余户型", "entitlement.reason_declined_rest"),
    ("按已选房源", "entitlement.reason_units"),
    ("按登记户型", "entitlement.reason_registered_layouts"),
    ("入户评估", "entitlement.reason_assessment"),
    ("选房登记", "entitlement.reason_registration"),
    ("签约", "entitlement.reason_signing"),
    ("更正：", "entitlement.reason_correction"),
    ("；", "entitlement.reason_then"),
    ("，", "entitlement.reason_and"),
    ("：", "entitlement.reason_colon"),
];

/// The reason of a calculation (`入户评估；按已选房源，2026-05-01 签约`) in the reader's
/// language: the system's own phrases translated, what a cadre wrote (a correction's reason)
/// kept as written.
pub fn reason(catalog: &Catalog, text: &str) -> String {
    if catalog.lang() == Lang::ZhCn {
        return text.to_owned();
    }
    // `2026-05-01 签约`: the day goes after the words in English.
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(" 签约") {
        let day = at.checked_sub(10).and_then(|from| rest.get(from..at));
        match day.filter(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok()) {
            Some(d) => {
                out.push_str(&rest[..at - 10]);
                out.push_str(
                    &catalog.format("entitlement.reason_signed_on", &[("day", d.to_owned())]),
                );
            }
            None => out.push_str(&rest[..at + " 签约".len()]),
        }
        rest = &rest[at + " 签约".len()..];
    }
    out.push_str(rest);
    for (phrase, key) in REASON_PHRASES {
        out = out.replace(phrase, catalog.t(key));
    }
    out
}

/// A kind of structure.
pub fn structure_name(catalog: &Catalog, kind: StructureKind) -> &str {
    catalog.t(match kind {
        StructureKind::BrickConcrete => "entitlement.structure_brick_concrete",
        StructureKind::BrickWood => "entitlement.structure_brick_wood",
        StructureKind::Simple => "entitlement.structure_simple",
    })
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]

    use super::*;
    use yongxin_domain::money::Qty;
    use yongxin_domain::resettlement::entitlement::{
        compute, layout_combination, CountedFixture, HouseholdInputs, MeasuredStructure,
    };
    use yongxin_domain::resettlement::policy::{Policy, EXAMPLE_TOML};

    #[test]
    fn the_systems_reasons_are_said_in_english() {
        let en = Lang::En.catalog();
        assert_eq!(
            reason(en, "入户评估；按已选房源及待选户型，2026-05-01 签约（待选户型未计入）"),
            "home assessment; by the apartments chosen and the layouts still to choose, signed 2026-05-01 (layouts still to choose not counted)"
        );
        assert_eq!(reason(en, "更正：户籍有误"), "correction: 户籍有误");
        let zh = Lang::ZhCn.catalog();
        assert_eq!(reason(zh, "入户评估；签约"), "入户评估；签约");
    }

    /// Every line of a full calculation reads without Chinese in English, but for the policy's
    /// own names; in Chinese it is the domain's description.
    #[test]
    fn every_line_is_said_in_english_and_chinese_is_kept() {
        let policy = Policy::from_toml(EXAMPLE_TOML).unwrap();
        let member = |name: &str| EligibleMember {
            resident_id: None,
            name: name.into(),
            weight: Qty::whole(1),
            basis: "核实".into(),
            why: MemberBasis::Described,
        };
        let inputs = HouseholdInputs {
            members: vec![member("甲"), member("乙"), member("丙")],
            structures: vec![MeasuredStructure {
                kind: StructureKind::BrickConcrete,
                condition: "二等".into(),
                area: "156.37".parse().unwrap(),
            }],
            fixtures: vec![CountedFixture {
                code: "well".into(),
                quantity: Qty::whole(1),
            }],
        };
        let chosen = layout_combination(&policy, Qty::whole(150), &["C".to_owned()]).unwrap();
        let signed = policy.rewards.first().map(|w| w.signed_by);
        let e = compute(&policy, &inputs, &chosen, signed).unwrap();
        let kinds: Vec<&str> = e.lines.iter().map(|l| l.code.as_str()).collect();
        assert!(kinds.len() >= 5, "{kinds:?}");
        let en = Lang::En.catalog();
        let zh = Lang::ZhCn.catalog();
        for l in &e.lines {
            assert_eq!(description(zh, l), l.description);
            let english = description(en, l);
            // Only the policy's own names (a condition, a fixture, a layout) stay in Chinese.
            for run in english.split(|c: char| !('\u{4e00}'..='\u{9fff}').contains(&c)) {
                assert!(EXAMPLE_TOML.contains(run), "{run} in {english}");
            }
            assert!(!english.is_empty());
        }
    }
}
