//! 安置补偿核算: who of a household counts, and the household's entitlement line by line.
//! [`compute`] is a pure function of (policy, household inputs, chosen units, signing date): the
//! same inputs give the same lines to the fen, which is what lets a published result be checked.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::policy::{Beyond, Policy, StructureKind};
use crate::money::{Fen, Qty};
use crate::registry::ResidentFlag;

/// A registry member as eligibility needs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberFacts {
    /// Registry id of the member.
    pub resident_id: i64,
    /// 姓名
    pub name: String,
    /// 出生日期
    pub birth_date: NaiveDate,
    /// 户籍登记日期 (unknown: registered at birth).
    pub registered_since: Option<NaiveDate>,
    /// 人员标记
    pub flags: Vec<ResidentFlag>,
}

/// 安置人口: one member's weight and why (weight 0 with the reason when not counted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EligibleMember {
    /// Registry id, or `None` for a person added by a recorded correction.
    pub resident_id: Option<i64>,
    /// 姓名
    pub name: String,
    /// Weight (1 = one person).
    pub weight: Qty,
    /// Why, in plain words with the clause.
    pub basis: String,
    /// Why, in parts any language can say (`Described`: `basis` is all there is, as when a
    /// cadre wrote it).
    #[serde(default)]
    pub why: MemberBasis,
}

/// Why a member counts as they do, by the eligibility rule that applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MemberBasis {
    /// Only the words of `basis` (a correction a cadre wrote, or kept from before).
    #[default]
    Described,
    /// Registered on or before the cutoff, with a flag that sets the weight.
    Flagged {
        /// The flag (在校学生, …).
        flag: ResidentFlag,
        /// The policy's clause.
        clause: String,
    },
    /// Registered on or before the cutoff (… 前在册).
    Registered {
        /// The cutoff.
        cutoff: NaiveDate,
        /// The policy's clause.
        clause: String,
    },
    /// A child born after the cutoff within the window for newborns.
    Newborn {
        /// The policy's clause.
        clause: String,
    },
    /// Moved in after the cutoff: not counted.
    MovedInAfter {
        /// When they were registered.
        since: NaiveDate,
        /// The policy's clause.
        clause: String,
    },
}

impl MemberBasis {
    /// The basis in Chinese.
    pub fn zh(&self) -> String {
        match self {
            MemberBasis::Described => String::new(),
            MemberBasis::Flagged { flag, clause } => format!("{}，{clause}", flag.zh()),
            MemberBasis::Registered { cutoff, clause } => format!("{cutoff} 前在册，{clause}"),
            MemberBasis::Newborn { clause } => format!("截止日后出生的子女，{clause}"),
            MemberBasis::MovedInAfter { since, clause } => {
                format!("{since} 后迁入，不计入（{clause}）")
            }
        }
    }
}

/// Derives each member's weight from the registry as it stood at the policy's cutoff.
pub fn eligible_members(policy: &Policy, members: &[MemberFacts]) -> Vec<EligibleMember> {
    let e = &policy.eligibility;
    members
        .iter()
        .map(|m| {
            let since = m.registered_since.unwrap_or(m.birth_date);
            let (weight, why) = if since <= e.cutoff {
                let flagged = e
                    .flags
                    .iter()
                    .filter(|f| m.flags.contains(&f.flag))
                    .max_by_key(|f| f.weight);
                match flagged {
                    Some(f) => (
                        f.weight,
                        MemberBasis::Flagged {
                            flag: f.flag,
                            clause: f.clause.clone(),
                        },
                    ),
                    None => (
                        e.weight,
                        MemberBasis::Registered {
                            cutoff: e.cutoff,
                            clause: e.clause.clone(),
                        },
                    ),
                }
            } else if m.birth_date > e.cutoff && e.newborns_until.is_some_and(|u| m.birth_date <= u)
            {
                (
                    e.newborn_weight,
                    MemberBasis::Newborn {
                        clause: e.clause.clone(),
                    },
                )
            } else {
                (
                    Qty::ZERO,
                    MemberBasis::MovedInAfter {
                        since,
                        clause: e.clause.clone(),
                    },
                )
            };
            EligibleMember {
                resident_id: Some(m.resident_id),
                name: m.name.clone(),
                weight,
                basis: why.zh(),
                why,
            }
        })
        .collect()
}

/// A measured structure (房屋): kind, condition as the policy names it, area.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeasuredStructure {
    /// 结构
    pub kind: StructureKind,
    /// 成新
    pub condition: String,
    /// 面积 m²
    pub area: Qty,
}

/// A counted fixture (附属物).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountedFixture {
    /// The policy's fixture code.
    pub code: String,
    /// How many, in the fixture's unit.
    pub quantity: Qty,
}

/// 入户评估: what the computation reads of a household.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct HouseholdInputs {
    /// Members with their weights.
    pub members: Vec<EligibleMember>,
    /// Structures.
    pub structures: Vec<MeasuredStructure>,
    /// Fixtures.
    pub fixtures: Vec<CountedFixture>,
}

/// An apartment (or a registered layout, before selection) in the purchase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChosenUnit {
    /// What it is (`C 户型` or `3号楼 1803`), in Chinese.
    pub label: String,
    /// Floor area m².
    pub area: Qty,
    /// What it is, for saying it in another language.
    #[serde(default)]
    pub words: UnitWords,
}

impl ChosenUnit {
    /// An apartment, named by its building and number (the office's own names).
    pub fn apartment(building: &str, number: &str, area: Qty) -> ChosenUnit {
        ChosenUnit {
            label: format!("{building} {number}"),
            area,
            words: UnitWords::Named,
        }
    }
}

/// What a unit of a purchase is: its label is the office's own name (an apartment), or it is a
/// layout of the policy (户型), chosen or still to choose (待选).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum UnitWords {
    /// The label is a name (`3号楼 1803`), the same in every language.
    #[default]
    Named,
    /// A layout of the policy, by its code and name.
    Layout {
        /// Code (`C`).
        code: String,
        /// Name (`两室两厅一卫`).
        name: String,
    },
    /// A registered layout still to be chosen.
    LayoutToChoose {
        /// Code (`C`).
        code: String,
    },
}

/// What a line of the calculation is, in parts any language can say; the line's
/// `description` says it in Chinese. Names (a fixture's, a condition's, a unit's) are the
/// policy's own and stay as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LineWords {
    /// A line kept from before lines carried their parts: only its Chinese description.
    #[default]
    Described,
    /// A structure (房屋) of a kind and condition.
    Structure {
        /// 结构
        structure: StructureKind,
        /// 成新, as the policy names it.
        condition: String,
    },
    /// A fixture (附属物), as the policy names it.
    Fixture {
        /// Its name.
        name: String,
    },
    /// 搬家补助费
    Moving,
    /// 临时过渡费 for so many persons and months.
    Transition {
        /// Eligible persons.
        persons: Qty,
        /// Months.
        months: u32,
    },
    /// 提前签约奖励: signed on a day, no later than the window's last.
    Reward {
        /// The day signed.
        signed_on: NaiveDate,
        /// The window's last day.
        signed_by: NaiveDate,
    },
    /// The area chosen within the entitlement (安置面积以内), naming the units.
    WithinEntitlement {
        /// The units chosen.
        units: Vec<ChosenUnit>,
    },
    /// A band of area over the entitlement (超出安置面积 from–to m²).
    Band {
        /// From m² over.
        from: Qty,
        /// To m² over.
        to: Qty,
    },
    /// Area beyond the last band, at market price.
    Market,
    /// Entitled area not used, paid in cash (未用安置面积货币补偿).
    CashForUnused,
}

impl LineWords {
    /// The line's description in Chinese.
    pub fn zh(&self) -> String {
        match self {
            LineWords::Described => String::new(),
            LineWords::Structure {
                structure,
                condition,
            } => format!("{}结构房屋（{condition}）", structure.zh()),
            LineWords::Fixture { name } => name.clone(),
            LineWords::Moving => "搬家补助费".into(),
            LineWords::Transition { persons, months } => {
                format!("临时过渡费（{} 人 × {months} 个月）", persons.short())
            }
            LineWords::Reward {
                signed_on,
                signed_by,
            } => format!("提前签约奖励（{signed_on} 签约，不晚于 {signed_by}）"),
            LineWords::WithinEntitlement { units } => {
                let labels = units
                    .iter()
                    .map(|u| u.label.as_str())
                    .collect::<Vec<_>>()
                    .join("、");
                format!("安置面积以内（{labels}）")
            }
            LineWords::Band { from, to } => {
                format!("超出安置面积 {}–{} m² 部分", from.short(), to.short())
            }
            LineWords::Market => "超出优惠面积部分（市场价）".into(),
            LineWords::CashForUnused => "未用安置面积货币补偿".into(),
        }
    }
}

/// The three groups of lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineGroup {
    /// 补偿
    Compensation,
    /// 购房款
    Purchase,
    /// 未用面积补偿
    CashForUnused,
}

impl LineGroup {
    /// The Chinese heading.
    pub fn zh(self) -> &'static str {
        match self {
            LineGroup::Compensation => "补偿",
            LineGroup::Purchase => "购房款",
            LineGroup::CashForUnused => "未用安置面积补偿",
        }
    }
}

/// One line of the calculation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntitlementLine {
    /// Group.
    pub group: LineGroup,
    /// Stable code (`structure`, `fixture:well`, `purchase:band1`).
    pub code: String,
    /// Plain zh-CN.
    pub description: String,
    /// What the line is, for saying it in another language.
    #[serde(default)]
    pub words: LineWords,
    /// Quantity.
    pub quantity: Qty,
    /// Its unit (`m²`, `棵`, `人·月`).
    pub unit: String,
    /// Rate per unit.
    pub rate: Fen,
    /// quantity × rate, rounded as the policy says.
    pub amount: Fen,
    /// The policy clause behind it.
    pub clause: String,
}

/// The totals: each group's lines sum exactly to its total; net = compensation + cash − purchase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// 补偿合计
    pub compensation: Fen,
    /// 购房款合计
    pub purchase: Fen,
    /// 未用面积补偿
    pub cash_for_unused: Fen,
    /// 应得（负数为应补交）
    pub net: Fen,
}

/// A household's entitlement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entitlement {
    /// Policy version computed under.
    pub policy_version: u32,
    /// Σ weights of the members.
    pub eligible_persons: Qty,
    /// 安置面积
    pub entitled_area: Qty,
    /// The most area that may be chosen (`None`: any, beyond the bands at market price).
    pub limit_area: Option<Qty>,
    /// Area of the chosen units.
    pub chosen_area: Qty,
    /// The lines.
    pub lines: Vec<EntitlementLine>,
    /// The totals.
    pub totals: Totals,
}

/// Why a computation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntitlementError {
    /// A structure the policy has no rate for.
    #[error("政策中没有{0}结构（{1}）的补偿标准")]
    UnknownStructure(&'static str, String),
    /// A fixture the policy has no rate for.
    #[error("政策中没有附属物“{0}”的补偿标准")]
    UnknownFixture(String),
    /// A layout the policy does not have.
    #[error("政策中没有 {0} 户型")]
    UnknownLayout(String),
    /// Negative area or count.
    #[error("面积和数量不能为负")]
    Negative,
    /// An area or amount beyond what can be computed exactly (a typing error: no household
    /// comes near it).
    #[error("面积或金额过大，无法计算，请检查所填数值")]
    TooLarge,
    /// Chosen area over what may be chosen.
    #[error("所选面积 {chosen} m² 超过可选上限 {limit} m²（安置面积加优惠面积）")]
    OverLimit {
        /// Chosen m².
        chosen: String,
        /// Limit m².
        limit: String,
    },
    /// No layout in a registration.
    #[error("至少选择一个户型")]
    Empty,
}

/// Σ weights and the entitled area.
pub fn entitled_area(
    policy: &Policy,
    members: &[EligibleMember],
) -> Result<(Qty, Qty), EntitlementError> {
    let persons = members
        .iter()
        .try_fold(Qty::ZERO, |sum, m| sum.checked_add(m.weight))
        .ok_or(EntitlementError::TooLarge)?;
    let area = persons
        .checked_times(policy.area.per_person)
        .ok_or(EntitlementError::TooLarge)?;
    let area = policy.area.household_minimum.map_or(area, |min| {
        if persons > Qty::ZERO {
            area.max(min)
        } else {
            area
        }
    });
    Ok((persons, area))
}

/// The most area a household with this entitlement may choose.
pub fn limit_area(policy: &Policy, entitled: Qty) -> Option<Qty> {
    policy.band_limit().map(|band| entitled + band)
}

/// A registered layout combination (e.g. `C` + `B`) as units to price; checked against the limit.
pub fn layout_combination(
    policy: &Policy,
    entitled: Qty,
    codes: &[String],
) -> Result<Vec<ChosenUnit>, EntitlementError> {
    if codes.is_empty() {
        return Err(EntitlementError::Empty);
    }
    let units = codes
        .iter()
        .map(|c| {
            let l = policy
                .layout(c)
                .ok_or_else(|| EntitlementError::UnknownLayout(c.clone()))?;
            Ok(ChosenUnit {
                label: format!("{} 户型（{}）", l.code, l.name),
                area: l.area,
                words: UnitWords::Layout {
                    code: l.code.clone(),
                    name: l.name.clone(),
                },
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    check_fits(policy, entitled, &units)?;
    Ok(units)
}

/// The units a household's figure is priced with while it is choosing: the units it has (or is
/// about to confirm) and, for each registered layout it has still to choose, that layout (待选),
/// so a part of the combination not yet chosen is never shown paid out as cash. A layout the
/// policy does not know is left out.
pub fn with_layouts_to_choose(
    policy: &Policy,
    mut units: Vec<ChosenUnit>,
    still: &[&str],
) -> Vec<ChosenUnit> {
    for code in still {
        if let Some(l) = policy.layout(code) {
            units.push(ChosenUnit {
                label: format!("{} 户型（待选）", l.code),
                area: l.area,
                words: UnitWords::LayoutToChoose {
                    code: l.code.clone(),
                },
            });
        }
    }
    units
}

/// Refuses units whose total area is over the household's limit.
pub fn check_fits(
    policy: &Policy,
    entitled: Qty,
    units: &[ChosenUnit],
) -> Result<(), EntitlementError> {
    let chosen: Qty = units.iter().map(|u| u.area).sum();
    match limit_area(policy, entitled) {
        Some(limit) if chosen > limit => Err(EntitlementError::OverLimit {
            chosen: chosen.short(),
            limit: limit.short(),
        }),
        _ => Ok(()),
    }
}

/// The entitlement, line by line. With no units chosen there is nothing to price: no purchase
/// and no cash for unused area yet (both follow once a combination is registered or chosen).
pub fn compute(
    policy: &Policy,
    inputs: &HouseholdInputs,
    chosen: &[ChosenUnit],
    signed_on: Option<NaiveDate>,
) -> Result<Entitlement, EntitlementError> {
    compute_with(policy, inputs, chosen, signed_on, false)
}

/// The entitlement of a household whose choosing is over (it declined the rest of its
/// combination): as [`compute`], and if it chose no apartment at all, its whole entitled area is
/// paid as cash for unused area.
pub fn compute_settled(
    policy: &Policy,
    inputs: &HouseholdInputs,
    chosen: &[ChosenUnit],
    signed_on: Option<NaiveDate>,
) -> Result<Entitlement, EntitlementError> {
    compute_with(policy, inputs, chosen, signed_on, true)
}

fn compute_with(
    policy: &Policy,
    inputs: &HouseholdInputs,
    chosen: &[ChosenUnit],
    signed_on: Option<NaiveDate>,
    settled: bool,
) -> Result<Entitlement, EntitlementError> {
    let rounding = policy.rounding();
    let mut lines = Vec::new();
    let mut too_large = false;
    let mut line = |group,
                    code: String,
                    words: LineWords,
                    quantity: Qty,
                    unit: &str,
                    rate: Fen,
                    clause: &str| {
        lines.push(EntitlementLine {
            group,
            code,
            description: words.zh(),
            words,
            quantity,
            unit: unit.to_owned(),
            rate,
            amount: rounding.amount(quantity, rate).unwrap_or_else(|| {
                too_large = true;
                Fen::ZERO
            }),
            clause: clause.to_owned(),
        });
    };
    if inputs.members.iter().any(|m| m.weight < Qty::ZERO)
        || inputs.structures.iter().any(|s| s.area < Qty::ZERO)
        || inputs.fixtures.iter().any(|f| f.quantity < Qty::ZERO)
        || chosen.iter().any(|u| u.area < Qty::ZERO)
    {
        return Err(EntitlementError::Negative);
    }
    let (persons, entitled) = entitled_area(policy, &inputs.members)?;
    use LineGroup::*;
    for s in &inputs.structures {
        let rate = policy
            .structures
            .iter()
            .find(|r| r.kind == s.kind && r.condition == s.condition)
            .ok_or_else(|| EntitlementError::UnknownStructure(s.kind.zh(), s.condition.clone()))?;
        line(
            Compensation,
            format!("structure:{}", s.kind.code()),
            LineWords::Structure {
                structure: s.kind,
                condition: s.condition.clone(),
            },
            s.area,
            "m²",
            rate.rate,
            &rate.clause,
        );
    }
    for f in &inputs.fixtures {
        let rate = policy
            .fixtures
            .iter()
            .find(|r| r.code == f.code)
            .ok_or_else(|| EntitlementError::UnknownFixture(f.code.clone()))?;
        line(
            Compensation,
            format!("fixture:{}", f.code),
            LineWords::Fixture {
                name: rate.name.clone(),
            },
            f.quantity,
            &rate.unit,
            rate.rate,
            &rate.clause,
        );
    }
    if let Some(m) = &policy.moving {
        line(
            Compensation,
            "moving".into(),
            LineWords::Moving,
            Qty::whole(m.moves.into()),
            "次",
            m.per_move,
            &m.clause,
        );
    }
    if let Some(t) = &policy.transition {
        let q = persons
            .checked_times(Qty::whole(t.months.into()))
            .ok_or(EntitlementError::TooLarge)?;
        line(
            Compensation,
            "transition".into(),
            LineWords::Transition {
                persons,
                months: t.months,
            },
            q,
            "人·月",
            t.per_person_month,
            &t.clause,
        );
    }
    if let Some(day) = signed_on {
        if let Some(w) = policy.rewards.iter().find(|w| day <= w.signed_by) {
            line(
                Compensation,
                "reward".into(),
                LineWords::Reward {
                    signed_on: day,
                    signed_by: w.signed_by,
                },
                Qty::whole(1),
                "户",
                w.amount,
                &w.clause,
            );
        }
    }
    let chosen_area: Qty = chosen.iter().map(|u| u.area).sum();
    if !chosen.is_empty() {
        check_fits(policy, entitled, chosen)?;
        let p = &policy.price;
        line(
            Purchase,
            "purchase:within".into(),
            LineWords::WithinEntitlement {
                units: chosen.to_vec(),
            },
            chosen_area.min(entitled),
            "m²",
            p.within_entitlement,
            &p.clause,
        );
        let over = chosen_area - entitled;
        for (i, b) in p.bands.iter().enumerate() {
            let part = (over.min(b.to) - b.from).max(Qty::ZERO);
            if part > Qty::ZERO {
                line(
                    Purchase,
                    format!("purchase:band{}", i + 1),
                    LineWords::Band {
                        from: b.from,
                        to: b.to,
                    },
                    part,
                    "m²",
                    b.price,
                    &b.clause,
                );
            }
        }
        let end = p.bands.last().map_or(Qty::ZERO, |b| b.to);
        let beyond = over - end;
        if beyond > Qty::ZERO {
            // check_fits has refused this when beyond is not allowed.
            if let (Beyond::Market, Some(m)) = (p.beyond, p.market) {
                line(
                    Purchase,
                    "purchase:market".into(),
                    LineWords::Market,
                    beyond,
                    "m²",
                    m,
                    &p.market_clause,
                );
            }
        }
    }
    if (settled || !chosen.is_empty()) && entitled > chosen_area {
        let p = &policy.price;
        line(
            CashForUnused,
            "cash_for_unused".into(),
            LineWords::CashForUnused,
            entitled - chosen_area,
            "m²",
            p.unused_cash,
            &p.unused_clause,
        );
    }
    if too_large {
        return Err(EntitlementError::TooLarge);
    }
    let sum = |g: LineGroup| {
        lines
            .iter()
            .filter(|l| l.group == g)
            .try_fold(Fen::ZERO, |sum, l| sum.checked_add(l.amount))
            .ok_or(EntitlementError::TooLarge)
    };
    let (compensation, purchase, cash_for_unused) =
        (sum(Compensation)?, sum(Purchase)?, sum(CashForUnused)?);
    let net = compensation
        .checked_add(cash_for_unused)
        .and_then(|v| v.checked_add(Fen(-purchase.0)))
        .ok_or(EntitlementError::TooLarge)?;
    Ok(Entitlement {
        policy_version: policy.version,
        eligible_persons: persons,
        entitled_area: entitled,
        limit_area: limit_area(policy, entitled),
        chosen_area,
        totals: Totals {
            compensation,
            purchase,
            cash_for_unused,
            net,
        },
        lines,
    })
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]

    use super::*;
    use crate::resettlement::policy::EXAMPLE_TOML;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn policy() -> Policy {
        Policy::from_toml(EXAMPLE_TOML).unwrap()
    }

    fn person(name: &str, weight: i64) -> EligibleMember {
        EligibleMember {
            resident_id: None,
            name: name.into(),
            weight: Qty::whole(weight),
            basis: String::new(),
            why: MemberBasis::Described,
        }
    }

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    /// Areas and weights each within what a form accepts multiplied past what an amount holds
    /// and came out wrapped; now the computation is refused with a message saying why.
    #[test]
    fn figures_beyond_what_can_be_computed_are_refused() {
        let p = policy();
        let huge: Qty = "10000000000000".parse().unwrap();
        let structure = MeasuredStructure {
            kind: StructureKind::BrickConcrete,
            condition: "二等".into(),
            area: huge,
        };
        let inputs = HouseholdInputs {
            members: vec![person("甲", 1)],
            structures: vec![structure.clone(), structure],
            fixtures: Vec::new(),
        };
        assert_eq!(
            compute(&p, &inputs, &[], None).err(),
            Some(EntitlementError::TooLarge)
        );
        let heavy = EligibleMember {
            weight: huge,
            ..person("乙", 1)
        };
        assert_eq!(
            entitled_area(&p, &[heavy.clone(), heavy]).err(),
            Some(EntitlementError::TooLarge)
        );
    }

    #[test]
    fn a_worked_example_to_the_fen() {
        let p = policy();
        let inputs = HouseholdInputs {
            members: vec![person("甲", 1), person("乙", 1), person("丙", 1)],
            structures: vec![MeasuredStructure {
                kind: StructureKind::BrickConcrete,
                condition: "二等".into(),
                area: "156.37".parse().unwrap(),
            }],
            fixtures: vec![
                CountedFixture {
                    code: "well".into(),
                    quantity: Qty::whole(1),
                },
                CountedFixture {
                    code: "shed".into(),
                    quantity: "12.35".parse().unwrap(),
                },
            ],
        };
        let chosen = layout_combination(&p, Qty::whole(120), &["C".into(), "A".into()]).unwrap();
        let e = compute(&p, &inputs, &chosen, Some(date("2026-07-15"))).unwrap();
        assert_eq!(e.entitled_area, Qty::whole(120));
        assert_eq!(e.chosen_area, Qty::whole(135));
        let amount = |code: &str| {
            e.lines
                .iter()
                .find(|l| l.code == code)
                .map(|l| l.amount.to_string())
        };
        // 156.37 × 1180 = 184,516.60; 12.35 × 85.50 = 1,055.925 → 1,055.93 (half up)
        assert_eq!(
            amount("structure:brick_concrete").as_deref(),
            Some("184516.60")
        );
        assert_eq!(amount("fixture:shed").as_deref(), Some("1055.93"));
        assert_eq!(amount("fixture:well").as_deref(), Some("1500.00"));
        assert_eq!(amount("moving").as_deref(), Some("4000.00"));
        assert_eq!(amount("transition").as_deref(), Some("40500.00")); // 3 × 30 × 450
        assert_eq!(amount("reward").as_deref(), Some("20000.00")); // second window
                                                                   // 135 m² for 120 entitled: 120 × 1200 + 10 × 3000 + 5 × 4500
        assert_eq!(amount("purchase:within").as_deref(), Some("144000.00"));
        assert_eq!(amount("purchase:band1").as_deref(), Some("30000.00"));
        assert_eq!(amount("purchase:band2").as_deref(), Some("22500.00"));
        assert_eq!(e.totals.purchase, Fen(19_650_000));
        assert_eq!(e.totals.compensation.to_string(), "251572.53");
        assert_eq!(e.totals.net.to_string(), "55072.53");
        assert_eq!(e.limit_area, Some(Qty::whole(140)));
        assert!(e.lines.iter().all(|l| l.group != LineGroup::CashForUnused));
        assert_eq!(
            e.totals.net,
            e.totals.compensation + e.totals.cash_for_unused - e.totals.purchase
        );
    }

    #[test]
    fn over_the_limit_is_refused_and_unused_area_is_paid() {
        let p = policy();
        let err = layout_combination(&p, Qty::whole(120), &["E".into(), "A".into()]).unwrap_err();
        assert!(matches!(err, EntitlementError::OverLimit { .. }), "{err}");
        assert!(err.to_string().contains("175"), "{err}");
        assert!(matches!(
            layout_combination(&p, Qty::whole(120), &[]),
            Err(EntitlementError::Empty)
        ));
        assert!(matches!(
            layout_combination(&p, Qty::whole(120), &["Z".into()]),
            Err(EntitlementError::UnknownLayout(_))
        ));
        let inputs = HouseholdInputs {
            members: vec![person("甲", 1), person("乙", 1), person("丙", 1)],
            ..Default::default()
        };
        let chosen = layout_combination(&p, Qty::whole(120), &["D".into()]).unwrap();
        let e = compute(&p, &inputs, &chosen, None).unwrap();
        let cash = e
            .lines
            .iter()
            .find(|l| l.group == LineGroup::CashForUnused)
            .unwrap();
        assert_eq!(
            (cash.quantity, cash.amount),
            (Qty::whole(10), Fen(3_500_000))
        );
        assert_eq!(e.totals.purchase, Fen(110 * 1200 * 100));
        assert!(e.lines.iter().all(|l| l.code != "reward"));
    }

    #[test]
    fn a_layout_still_to_choose_is_priced_as_registered_not_paid_as_cash() {
        let p = policy();
        let inputs = HouseholdInputs {
            members: vec![
                person("甲", 1),
                person("乙", 1),
                person("丙", 1),
                person("丁", 1),
            ],
            ..Default::default()
        };
        let registered =
            layout_combination(&p, Qty::whole(160), &["C".into(), "B".into()]).unwrap();
        let as_registered = compute(&p, &inputs, &registered, None).unwrap();
        // One apartment of the C layout chosen, B still to choose: the same figure, no cash.
        let c = p.layout("C").unwrap().area;
        let chosen = vec![ChosenUnit::apartment("3号楼", "1803", c)];
        let mid = compute(
            &p,
            &inputs,
            &with_layouts_to_choose(&p, chosen.clone(), &["B"]),
            None,
        )
        .unwrap();
        assert_eq!(mid.totals, as_registered.totals);
        assert!(mid
            .lines
            .iter()
            .any(|l| l.description.contains("B 户型（待选）")));
        // Declined the rest: the unused area is paid.
        let done = compute(&p, &inputs, &with_layouts_to_choose(&p, chosen, &[]), None).unwrap();
        assert!(done.totals.cash_for_unused > Fen::ZERO);
        // Declined everything: the whole entitled area is paid in cash, nothing purchased.
        let none = compute_settled(&p, &inputs, &[], None).unwrap();
        let cash = none
            .lines
            .iter()
            .find(|l| l.group == LineGroup::CashForUnused)
            .unwrap();
        assert_eq!(cash.quantity, none.entitled_area);
        assert_eq!(none.totals.purchase, Fen::ZERO);
        assert!(
            compute(&p, &inputs, &[], None)
                .unwrap()
                .lines
                .iter()
                .all(|l| l.group != LineGroup::CashForUnused),
            "not before the choosing is over"
        );
        assert!(
            with_layouts_to_choose(&p, vec![], &["no-such"]).is_empty(),
            "unknown layouts are left out"
        );
    }

    #[test]
    fn eligibility_follows_the_registry_at_the_cutoff() {
        let p = policy();
        let m = |id, birth: &str, since: Option<&str>, flags: Vec<ResidentFlag>| MemberFacts {
            resident_id: id,
            name: format!("成员{id}"),
            birth_date: date(birth),
            registered_since: since.map(date),
            flags,
        };
        let got = eligible_members(
            &p,
            &[
                m(1, "1970-01-01", Some("1990-01-01"), vec![]),
                m(2, "2004-05-01", None, vec![ResidentFlag::Student]),
                m(3, "1990-01-01", Some("2026-05-01"), vec![]),
                m(4, "2026-06-01", None, vec![]),
                m(5, "2026-10-01", None, vec![]),
            ],
        );
        let weights: Vec<i64> = got.iter().map(|e| e.weight.0).collect();
        assert_eq!(weights, vec![100, 100, 0, 100, 0]);
        assert!(got[1].basis.contains("在校学生"));
        assert!(got[2].basis.contains("不计入"));
        let (persons, area) = entitled_area(&p, &got).unwrap();
        assert_eq!((persons, area), (Qty::whole(3), Qty::whole(120)));
        // One person: the household minimum applies.
        assert_eq!(entitled_area(&p, &got[..1]).unwrap().1, Qty::whole(90));
        assert_eq!(entitled_area(&p, &[]).unwrap().1, Qty::ZERO);
    }

    fn random_inputs(rng: &mut ChaCha8Rng, p: &Policy) -> (HouseholdInputs, Vec<ChosenUnit>) {
        let members = (0..rng.gen_range(0..8))
            .map(|i| EligibleMember {
                resident_id: Some(i),
                name: format!("成员{i}"),
                weight: Qty(rng.gen_range(0..=2) * 50),
                basis: String::new(),
                why: MemberBasis::Described,
            })
            .collect();
        let structures = (0..rng.gen_range(0..4))
            .map(|_| {
                let r = &p.structures[rng.gen_range(0..p.structures.len())];
                MeasuredStructure {
                    kind: r.kind,
                    condition: r.condition.clone(),
                    area: Qty(rng.gen_range(0..50_000)),
                }
            })
            .collect();
        let fixtures = (0..rng.gen_range(0..5))
            .map(|_| {
                let r = &p.fixtures[rng.gen_range(0..p.fixtures.len())];
                CountedFixture {
                    code: r.code.clone(),
                    quantity: Qty(rng.gen_range(0..10_000)),
                }
            })
            .collect();
        let chosen = (0..rng.gen_range(0..3))
            .map(|i| {
                ChosenUnit::apartment("单元", &i.to_string(), Qty(rng.gen_range(3_000..14_000)))
            })
            .collect();
        (
            HouseholdInputs {
                members,
                structures,
                fixtures,
            },
            chosen,
        )
    }

    /// Random households under random roundings and a market price beyond the bands.
    #[test]
    fn properties_hold_for_random_households() {
        let mut rng = ChaCha8Rng::seed_from_u64(20261127);
        let mut base = policy();
        base.price.beyond = Beyond::Market;
        let modes = [
            crate::money::RoundingMode::HalfUp,
            crate::money::RoundingMode::HalfEven,
            crate::money::RoundingMode::Down,
        ];
        let tos = [
            crate::money::RoundTo::Fen,
            crate::money::RoundTo::Jiao,
            crate::money::RoundTo::Yuan,
        ];
        let (mut checked, mut more) = (0, 0);
        for _ in 0..3_000 {
            let mut p = base.clone();
            p.rounding = modes[rng.gen_range(0..3)];
            p.round_to = tos[rng.gen_range(0..3)];
            p.price.within_entitlement = Fen(rng.gen_range(0..200_000));
            p.price.bands[0].price = p.price.within_entitlement + Fen(rng.gen_range(0..300_000));
            p.price.bands[1].price = p.price.bands[0].price + Fen(rng.gen_range(0..300_000));
            p.price.market = Some(p.price.bands[1].price + Fen(rng.gen_range(0..300_000)));
            if rng.gen_bool(0.5) {
                p.transition = None;
                p.moving = None;
            }
            p.check().unwrap();
            let (inputs, chosen) = random_inputs(&mut rng, &p);
            let signed = date("2026-05-01") + chrono::Duration::days(rng.gen_range(0..150));
            let e = compute(&p, &inputs, &chosen, Some(signed)).unwrap();
            // Lines sum to totals, group by group; net follows.
            for (g, total) in [
                (LineGroup::Compensation, e.totals.compensation),
                (LineGroup::Purchase, e.totals.purchase),
                (LineGroup::CashForUnused, e.totals.cash_for_unused),
            ] {
                assert_eq!(
                    e.lines
                        .iter()
                        .filter(|l| l.group == g)
                        .map(|l| l.amount)
                        .sum::<Fen>(),
                    total
                );
            }
            assert_eq!(
                e.totals.net,
                e.totals.compensation + e.totals.cash_for_unused - e.totals.purchase
            );
            // Same inputs, same output.
            assert_eq!(compute(&p, &inputs, &chosen, Some(signed)).unwrap(), e);
            // One more eligible person never lowers the entitlement: area, and the net amount.
            let mut plus = inputs.clone();
            plus.members.push(person("新增", 1));
            let f = compute(&p, &plus, &chosen, Some(signed)).unwrap();
            assert!(f.entitled_area >= e.entitled_area);
            assert!(
                f.totals.net >= e.totals.net,
                "{:?} < {:?}",
                f.totals,
                e.totals
            );
            more += i32::from(f.totals.net > e.totals.net);
            // Signing a day earlier never lowers the reward.
            let g = compute(
                &p,
                &inputs,
                &chosen,
                Some(signed - chrono::Duration::days(1)),
            )
            .unwrap();
            let reward = |e: &Entitlement| {
                e.lines
                    .iter()
                    .find(|l| l.code == "reward")
                    .map_or(Fen::ZERO, |l| l.amount)
            };
            assert!(reward(&g) >= reward(&e));
            checked += 1;
        }
        assert_eq!(checked, 3_000);
        assert!(more > 2_000, "the property was rarely exercised: {more}");
    }
}
