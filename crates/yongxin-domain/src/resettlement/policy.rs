//! 安置补偿政策: one version of a project's resettlement policy, written as TOML, checked as a
//! whole, rendered as the plain Chinese text published with it. A version is never edited in
//! place; a change is a new version. The schema is documented in `docs/policy.md`, with the
//! complete example `docs/policy-example.toml`.

use std::collections::HashSet;
use std::fmt::Write as _;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::money::{Fen, Qty, RoundTo, Rounding, RoundingMode};
use crate::registry::ResidentFlag;

/// At most this many apartments in one catalogue.
pub const MAX_UNITS: usize = 100_000;

/// A policy refused: which field, and why (zh-CN, for the person who wrote it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}：{reason}")]
pub struct PolicyError {
    /// The field, as a TOML path (`price.band[1].from`) or `第 N 行` for a syntax error.
    pub field: String,
    /// Why.
    pub reason: String,
}

fn refuse(field: impl Into<String>, reason: impl Into<String>) -> PolicyError {
    PolicyError {
        field: field.into(),
        reason: reason.into(),
    }
}

code_enum! {
    /// 结构类型: how a house is built, which sets its compensation per m².
    StructureKind {
        /// 砖混
        BrickConcrete = ("brick_concrete", "砖混"),
        /// 砖木
        BrickWood = ("brick_wood", "砖木"),
        /// 简易
        Simple = ("simple", "简易"),
    }
}

/// One version of a project's resettlement policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// 标题
    pub title: String,
    /// Version number, from 1, one more than the last published.
    pub version: u32,
    /// 施行日期
    #[serde(deserialize_with = "toml_date")]
    pub effective: NaiveDate,
    /// How amounts are rounded (default half up).
    #[serde(default)]
    pub rounding: RoundingMode,
    /// To what amounts are rounded (default the fen).
    #[serde(default)]
    pub round_to: RoundTo,
    /// Who counts, and with what weight.
    pub eligibility: Eligibility,
    /// Entitled area.
    pub area: AreaRule,
    /// Prices of the apartments chosen.
    pub price: PriceRule,
    /// 户型
    #[serde(default, rename = "layout")]
    pub layouts: Vec<Layout>,
    /// 安置楼
    #[serde(default, rename = "building")]
    pub buildings: Vec<Building>,
    /// Compensation for structures per m², by kind and condition.
    #[serde(default, rename = "structure")]
    pub structures: Vec<StructureRate>,
    /// Compensation for fixtures (附属物) per item.
    #[serde(default, rename = "fixture")]
    pub fixtures: Vec<FixtureRate>,
    /// 搬家补助费
    pub moving: Option<Moving>,
    /// 临时过渡费
    pub transition: Option<Transition>,
    /// 提前签约奖励, by dated windows.
    #[serde(default, rename = "reward")]
    pub rewards: Vec<RewardWindow>,
}

/// 安置人口认定: who counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Eligibility {
    /// 户籍截止日: registered in the household on or before this date.
    #[serde(deserialize_with = "toml_date")]
    pub cutoff: NaiveDate,
    /// Children born after the cutoff and on or before this date count too (登记截止前出生).
    #[serde(default, deserialize_with = "toml_date_opt")]
    pub newborns_until: Option<NaiveDate>,
    /// Weight of a registered member (default 1).
    #[serde(default = "one")]
    pub weight: Qty,
    /// Weight of such a newborn (default 1).
    #[serde(default = "one")]
    pub newborn_weight: Qty,
    /// Members with these flags count with these weights (the highest applies).
    #[serde(default, rename = "flag")]
    pub flags: Vec<FlagWeight>,
    /// 政策条款
    pub clause: String,
}

/// A TOML local date (`2026-03-31`, unquoted) as a date.
fn toml_date<'de, D: serde::Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
    use serde::de::Error;
    let dt = toml::value::Datetime::deserialize(d)?;
    match (dt.date, dt.time) {
        (Some(date), None) => {
            NaiveDate::from_ymd_opt(date.year.into(), date.month.into(), date.day.into())
                .ok_or_else(|| D::Error::custom(format!("{dt} 不是有效日期")))
        }
        _ => Err(D::Error::custom(format!("{dt}：只写日期，如 2026-03-31"))),
    }
}

fn toml_date_opt<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
    toml_date(d).map(Some)
}

fn one() -> Qty {
    Qty::whole(1)
}

/// A weight for members with a registry flag (在校学生, 现役军人, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlagWeight {
    /// The flag.
    pub flag: ResidentFlag,
    /// Its weight (0 excludes).
    pub weight: Qty,
    /// 政策条款
    pub clause: String,
}

/// 安置面积: entitled area.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AreaRule {
    /// m² per eligible person (weight 1).
    pub per_person: Qty,
    /// 每户保底面积
    pub household_minimum: Option<Qty>,
    /// 政策条款
    pub clause: String,
}

/// What happens beyond the last price band.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Beyond {
    /// At the market price.
    Market,
    /// Not allowed.
    NotAllowed,
}

/// 购房价格: prices of the area chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceRule {
    /// Price per m² within the entitled area (may be zero).
    pub within_entitlement: Fen,
    /// 政策条款 of that price.
    pub clause: String,
    /// Bands above the entitlement (m² over it) at their prices.
    #[serde(default, rename = "band")]
    pub bands: Vec<PriceBand>,
    /// Beyond the last band.
    pub beyond: Beyond,
    /// 市场价 per m², when `beyond = "market"`.
    pub market: Option<Fen>,
    /// 政策条款 of the market price.
    #[serde(default)]
    pub market_clause: String,
    /// Cash per m² of entitlement not used (未用面积货币补偿).
    pub unused_cash: Fen,
    /// 政策条款 of that cash.
    pub unused_clause: String,
}

/// 超面积优惠段: a band of area over the entitlement, `from` < m² over ≤ `to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceBand {
    /// m² over the entitlement where the band starts.
    pub from: Qty,
    /// m² over the entitlement where it ends.
    pub to: Qty,
    /// Price per m².
    pub price: Fen,
    /// 政策条款
    pub clause: String,
}

/// 户型
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layout {
    /// Code (`A`).
    pub code: String,
    /// Name (`两室两厅一卫`).
    pub name: String,
    /// 建筑面积 m².
    pub area: Qty,
}

/// 安置楼: a building whose floors all have the same units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Building {
    /// Code (`3`), unique in the catalogue.
    pub code: String,
    /// Name (`3号楼`).
    pub name: String,
    /// Lowest floor with apartments (default 1).
    #[serde(default = "first_floor")]
    pub first_floor: u32,
    /// Top floor.
    pub floors: u32,
    /// The layout of each unit on a floor, in unit-number order: unit `floor * 100 + position`.
    pub layouts: Vec<String>,
}

fn first_floor() -> u32 {
    1
}

/// A structure's compensation rate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StructureRate {
    /// 结构
    pub kind: StructureKind,
    /// 成新 (condition), as the policy names it (`一等`).
    pub condition: String,
    /// Per m².
    pub rate: Fen,
    /// 政策条款
    pub clause: String,
}

/// A fixture's compensation rate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureRate {
    /// Code (`well`).
    pub code: String,
    /// Name (`水井`).
    pub name: String,
    /// Unit (`口`, `棵`, `m²`).
    pub unit: String,
    /// Per unit.
    pub rate: Fen,
    /// 政策条款
    pub clause: String,
}

/// 搬家补助费
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Moving {
    /// Per move, per household.
    pub per_move: Fen,
    /// Moves paid (out and back in: 2).
    pub moves: u32,
    /// 政策条款
    pub clause: String,
}

/// 临时过渡费: per eligible person and month until handover.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transition {
    /// Per eligible person and month.
    pub per_person_month: Fen,
    /// Months until the planned handover (settled again at handover).
    pub months: u32,
    /// 政策条款
    pub clause: String,
}

/// 提前签约奖励: signed on or before `signed_by` earns `amount` (the first window that applies).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RewardWindow {
    /// Last day of the window.
    #[serde(deserialize_with = "toml_date")]
    pub signed_by: NaiveDate,
    /// Per household.
    pub amount: Fen,
    /// 政策条款
    pub clause: String,
}

/// One apartment of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnitSpec {
    /// Building code.
    pub building: String,
    /// Building name.
    pub building_name: String,
    /// Unit number (`1803`).
    pub number: String,
    /// Floor.
    pub floor: u32,
    /// Layout code.
    pub layout: String,
    /// Floor area m².
    pub area: Qty,
}

impl Policy {
    /// Reads and checks a policy. Syntax errors name the line; the rest name the field.
    pub fn from_toml(text: &str) -> Result<Policy, PolicyError> {
        let policy: Policy = toml::from_str(text).map_err(|e| {
            let field = match e.span() {
                Some(span) => format!("第 {} 行", text[..span.start].matches('\n').count() + 1),
                None => "政策".to_owned(),
            };
            refuse(field, e.message().to_owned())
        })?;
        policy.check()?;
        Ok(policy)
    }

    /// How this policy rounds.
    pub fn rounding(&self) -> Rounding {
        Rounding {
            mode: self.rounding,
            to: self.round_to,
        }
    }

    /// Every check a policy must pass, with the first failure's field and reason.
    pub fn check(&self) -> Result<(), PolicyError> {
        if self.title.trim().is_empty() {
            return Err(refuse("title", "不能为空"));
        }
        if self.version == 0 {
            return Err(refuse("version", "从 1 开始"));
        }
        let e = &self.eligibility;
        clause("eligibility", &e.clause)?;
        if let Some(until) = e.newborns_until {
            if until < e.cutoff {
                return Err(refuse(
                    "eligibility.newborns_until",
                    "不能早于户籍截止日 cutoff",
                ));
            }
        }
        weight("eligibility.weight", e.weight)?;
        weight("eligibility.newborn_weight", e.newborn_weight)?;
        let mut flags = HashSet::new();
        for (i, f) in e.flags.iter().enumerate() {
            let at = format!("eligibility.flag[{i}]");
            weight(&format!("{at}.weight"), f.weight)?;
            clause(&at, &f.clause)?;
            if !flags.insert(f.flag) {
                return Err(refuse(at, format!("标记 {} 重复", f.flag.zh())));
            }
        }
        if self.area.per_person <= Qty::ZERO {
            return Err(refuse("area.per_person", "必须大于 0"));
        }
        if self.area.household_minimum.is_some_and(|m| m < Qty::ZERO) {
            return Err(refuse("area.household_minimum", "不能为负"));
        }
        clause("area", &self.area.clause)?;
        self.check_prices()?;
        self.check_catalogue()?;
        let mut seen = HashSet::new();
        for (i, s) in self.structures.iter().enumerate() {
            let at = format!("structure[{i}]");
            money(&format!("{at}.rate"), s.rate)?;
            clause(&at, &s.clause)?;
            if s.condition.trim().is_empty() {
                return Err(refuse(format!("{at}.condition"), "不能为空"));
            }
            if !seen.insert((s.kind, s.condition.as_str())) {
                return Err(refuse(
                    at,
                    format!("{}（{}）重复", s.kind.zh(), s.condition),
                ));
            }
        }
        let mut seen = HashSet::new();
        for (i, f) in self.fixtures.iter().enumerate() {
            let at = format!("fixture[{i}]");
            money(&format!("{at}.rate"), f.rate)?;
            clause(&at, &f.clause)?;
            if f.code.trim().is_empty() || f.name.trim().is_empty() || f.unit.trim().is_empty() {
                return Err(refuse(at, "code、name、unit 都不能为空"));
            }
            if !seen.insert(f.code.as_str()) {
                return Err(refuse(format!("{at}.code"), format!("{} 重复", f.code)));
            }
        }
        if let Some(m) = &self.moving {
            money("moving.per_move", m.per_move)?;
            clause("moving", &m.clause)?;
        }
        if let Some(t) = &self.transition {
            money("transition.per_person_month", t.per_person_month)?;
            clause("transition", &t.clause)?;
            if t.months > 240 {
                return Err(refuse("transition.months", "不能超过 240 个月"));
            }
        }
        for (i, r) in self.rewards.iter().enumerate() {
            let at = format!("reward[{i}]");
            money(&format!("{at}.amount"), r.amount)?;
            clause(&at, &r.clause)?;
            if let Some(prev) = i.checked_sub(1).map(|p| &self.rewards[p]) {
                if r.signed_by <= prev.signed_by {
                    return Err(refuse(format!("{at}.signed_by"), "必须晚于上一档的截止日"));
                }
                if r.amount > prev.amount {
                    return Err(refuse(
                        format!("{at}.amount"),
                        "奖励应随时间递减，不能高于上一档",
                    ));
                }
            }
        }
        Ok(())
    }

    fn check_prices(&self) -> Result<(), PolicyError> {
        let p = &self.price;
        money("price.within_entitlement", p.within_entitlement)?;
        money("price.unused_cash", p.unused_cash)?;
        clause("price", &p.clause)?;
        clause("price.unused", &p.unused_clause)?;
        let mut floor_price = p.within_entitlement;
        let mut end = Qty::ZERO;
        for (i, b) in p.bands.iter().enumerate() {
            let at = format!("price.band[{i}]");
            money(&format!("{at}.price"), b.price)?;
            clause(&at, &b.clause)?;
            if b.to <= b.from {
                return Err(refuse(format!("{at}.to"), "必须大于 from"));
            }
            if b.from < end {
                return Err(refuse(
                    format!("{at}.from"),
                    format!("与上一段重叠：上一段到超出 {} m² 为止", end.short()),
                ));
            }
            if b.from > end {
                return Err(refuse(
                    format!("{at}.from"),
                    format!("与上一段之间有空档：应从超出 {} m² 开始", end.short()),
                ));
            }
            if b.price < floor_price {
                return Err(refuse(format!("{at}.price"), "不能低于前一档价格"));
            }
            floor_price = b.price;
            end = b.to;
        }
        match (p.beyond, p.market) {
            (Beyond::Market, None) => {
                return Err(refuse(
                    "price.market",
                    "beyond = \"market\" 时必须给出市场价",
                ))
            }
            (Beyond::Market, Some(m)) => {
                money("price.market", m)?;
                if m < floor_price {
                    return Err(refuse("price.market", "不能低于前一档价格"));
                }
                clause("price.market", &p.market_clause)?;
            }
            (Beyond::NotAllowed, _) => {}
        }
        Ok(())
    }

    fn check_catalogue(&self) -> Result<(), PolicyError> {
        let mut layouts = HashSet::new();
        for (i, l) in self.layouts.iter().enumerate() {
            let at = format!("layout[{i}]");
            if l.code.trim().is_empty() || l.name.trim().is_empty() {
                return Err(refuse(at, "code 和 name 不能为空"));
            }
            if l.area <= Qty::ZERO {
                return Err(refuse(format!("{at}.area"), "必须大于 0"));
            }
            if !layouts.insert(l.code.as_str()) {
                return Err(refuse(
                    format!("{at}.code"),
                    format!("户型 {} 重复", l.code),
                ));
            }
        }
        let mut buildings = HashSet::new();
        let mut units = 0usize;
        for (i, b) in self.buildings.iter().enumerate() {
            let at = format!("building[{i}]");
            if b.code.trim().is_empty() || b.name.trim().is_empty() {
                return Err(refuse(at, "code 和 name 不能为空"));
            }
            if !buildings.insert(b.code.as_str()) {
                return Err(refuse(
                    format!("{at}.code"),
                    format!("楼号 {} 重复", b.code),
                ));
            }
            if b.first_floor == 0 || b.floors < b.first_floor || b.floors > 99 {
                return Err(refuse(
                    format!("{at}.floors"),
                    "楼层应在 first_floor 到 99 之间",
                ));
            }
            if b.layouts.is_empty() || b.layouts.len() > 99 {
                return Err(refuse(format!("{at}.layouts"), "每层 1 到 99 套"));
            }
            if let Some(bad) = b.layouts.iter().find(|l| !layouts.contains(l.as_str())) {
                return Err(refuse(
                    format!("{at}.layouts"),
                    format!("户型 {bad} 未定义"),
                ));
            }
            units += b.layouts.len() * (b.floors - b.first_floor + 1) as usize;
        }
        if units > MAX_UNITS {
            return Err(refuse(
                "building",
                format!("共 {units} 套，超过上限 {MAX_UNITS}"),
            ));
        }
        Ok(())
    }

    /// The layout with this code.
    pub fn layout(&self, code: &str) -> Option<&Layout> {
        self.layouts.iter().find(|l| l.code == code)
    }

    /// Every apartment of the catalogue, building by building, floor by floor.
    pub fn units(&self) -> Vec<UnitSpec> {
        let mut out = Vec::new();
        for b in &self.buildings {
            for floor in b.first_floor..=b.floors {
                for (pos, code) in b.layouts.iter().enumerate() {
                    let area = self.layout(code).map_or(Qty::ZERO, |l| l.area);
                    out.push(UnitSpec {
                        building: b.code.clone(),
                        building_name: b.name.clone(),
                        number: format!("{}{:02}", floor, pos + 1),
                        floor,
                        layout: code.clone(),
                        area,
                    });
                }
            }
        }
        out
    }

    /// The most area above the entitlement that may be chosen (the bands' end), or `None` when
    /// any area may be bought at the market price.
    pub fn band_limit(&self) -> Option<Qty> {
        match self.price.beyond {
            Beyond::Market => None,
            Beyond::NotAllowed => Some(self.price.bands.last().map_or(Qty::ZERO, |b| b.to)),
        }
    }

    /// The policy in plain zh-CN, as published with it.
    pub fn render_zh(&self) -> String {
        let mut s = String::new();
        let e = &self.eligibility;
        let _ = writeln!(
            s,
            "{}（第 {} 版，{} 起施行）",
            self.title, self.version, self.effective
        );
        let _ = writeln!(s);
        let _ = writeln!(s, "一、安置人口（{}）", e.clause);
        let _ = writeln!(
            s,
            "{} 前（含当日）登记在本户的户籍人口，每人按 {} 人计。",
            e.cutoff,
            e.weight.short()
        );
        if let Some(until) = e.newborns_until {
            let _ = writeln!(
                s,
                "户籍截止日后至 {} 出生的子女，每人按 {} 人计。",
                until,
                e.newborn_weight.short()
            );
        }
        for f in &e.flags {
            let _ = writeln!(
                s,
                "{}：每人按 {} 人计（{}）。",
                f.flag.zh(),
                f.weight.short(),
                f.clause
            );
        }
        let _ = writeln!(s);
        let _ = writeln!(s, "二、安置面积（{}）", self.area.clause);
        let _ = write!(s, "每人 {} m²", self.area.per_person.short());
        match self.area.household_minimum {
            Some(m) => {
                let _ = writeln!(s, "，每户不少于 {} m²。", m.short());
            }
            None => s.push_str("。\n"),
        }
        let p = &self.price;
        let _ = writeln!(s);
        let _ = writeln!(s, "三、购房价格");
        let _ = writeln!(
            s,
            "安置面积以内：每平方米 {} 元（{}）。",
            p.within_entitlement.grouped(),
            p.clause
        );
        for b in &p.bands {
            let _ = writeln!(
                s,
                "超出安置面积 {}–{} m² 的部分：每平方米 {} 元（{}）。",
                b.from.short(),
                b.to.short(),
                b.price.grouped(),
                b.clause
            );
        }
        match (p.beyond, p.market) {
            (Beyond::Market, Some(m)) => {
                let _ = writeln!(
                    s,
                    "再超出的部分：按市场价每平方米 {} 元（{}）。",
                    m.grouped(),
                    p.market_clause
                );
            }
            _ => {
                let _ = writeln!(s, "再超出的部分：不得选购。");
            }
        }
        let _ = writeln!(
            s,
            "安置面积未用完的部分：每平方米补偿 {} 元（{}）。",
            p.unused_cash.grouped(),
            p.unused_clause
        );
        if !self.layouts.is_empty() {
            let _ = writeln!(s);
            let _ = writeln!(s, "四、户型与房源");
            for l in &self.layouts {
                let n: usize = self
                    .buildings
                    .iter()
                    .map(|b| {
                        b.layouts.iter().filter(|c| **c == l.code).count()
                            * (b.floors - b.first_floor + 1) as usize
                    })
                    .sum();
                let _ = writeln!(
                    s,
                    "{} 户型（{}）：{} m²，共 {} 套。",
                    l.code,
                    l.name,
                    l.area.short(),
                    n
                );
            }
            let _ = writeln!(
                s,
                "安置楼 {} 幢，共 {} 套。",
                self.buildings.len(),
                self.units().len()
            );
        }
        let _ = writeln!(s);
        let _ = writeln!(s, "五、补偿标准");
        for r in &self.structures {
            let _ = writeln!(
                s,
                "{}结构房屋（{}）：每平方米 {} 元（{}）。",
                r.kind.zh(),
                r.condition,
                r.rate.grouped(),
                r.clause
            );
        }
        for f in &self.fixtures {
            let _ = writeln!(
                s,
                "{}：每{} {} 元（{}）。",
                f.name,
                f.unit,
                f.rate.grouped(),
                f.clause
            );
        }
        if let Some(m) = &self.moving {
            let _ = writeln!(
                s,
                "搬家补助：每次 {} 元，共 {} 次（{}）。",
                m.per_move.grouped(),
                m.moves,
                m.clause
            );
        }
        if let Some(t) = &self.transition {
            let _ = writeln!(
                s,
                "临时过渡费：每人每月 {} 元，暂按 {} 个月计，交房时据实结算（{}）。",
                t.per_person_month.grouped(),
                t.months,
                t.clause
            );
        }
        for r in &self.rewards {
            let _ = writeln!(
                s,
                "{} 前（含当日）签约：奖励每户 {} 元（{}）。",
                r.signed_by,
                r.amount.grouped(),
                r.clause
            );
        }
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "金额按{}计至{}。",
            self.rounding.zh(),
            self.round_to.zh()
        );
        s
    }
}

fn clause(at: &str, c: &str) -> Result<(), PolicyError> {
    if c.trim().is_empty() {
        Err(refuse(
            format!("{at}.clause"),
            "每项标准都要写明所依据的政策条款",
        ))
    } else {
        Ok(())
    }
}

fn money(at: &str, v: Fen) -> Result<(), PolicyError> {
    if v < Fen::ZERO {
        Err(refuse(at, "金额不能为负"))
    } else {
        Ok(())
    }
}

fn weight(at: &str, w: Qty) -> Result<(), PolicyError> {
    if w < Qty::ZERO || w > Qty::whole(10) {
        Err(refuse(at, "权重应在 0 到 10 之间"))
    } else {
        Ok(())
    }
}

/// The complete example policy of the repository (`docs/policy-example.toml`), used by the demo.
pub const EXAMPLE_TOML: &str = include_str!("../../../../docs/policy-example.toml");

/// A policy's TOML as the starting point of its next version: its `version` line moved on to
/// `next`, everything else as it was.
pub fn bump_version(source: &str, next: u32) -> String {
    source
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("version") && l.contains('=') {
                format!("version = {next}")
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]

    use super::*;

    #[test]
    fn the_next_version_starts_from_the_last_with_its_number_moved_on() {
        let next = bump_version(EXAMPLE_TOML, 7);
        assert!(next.lines().any(|l| l == "version = 7"));
        assert_eq!(next.lines().count(), EXAMPLE_TOML.lines().count());
        let others = |t: &str| {
            t.lines()
                .filter(|l| !l.trim_start().starts_with("version"))
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        assert_eq!(others(&next), others(EXAMPLE_TOML));
    }

    fn example() -> Policy {
        Policy::from_toml(EXAMPLE_TOML).expect("the example policy is valid")
    }

    fn with(edit: impl FnOnce(&mut toml::Table)) -> Result<Policy, PolicyError> {
        let mut t: toml::Table = toml::from_str(EXAMPLE_TOML).unwrap();
        edit(&mut t);
        Policy::from_toml(&toml::to_string(&t).unwrap())
    }

    fn at<'a>(t: &'a mut toml::Table, path: &[&str]) -> &'a mut toml::Value {
        let mut v = t.get_mut(path[0]).unwrap();
        for p in &path[1..] {
            v = match p.parse::<usize>() {
                Ok(i) => &mut v.as_array_mut().unwrap()[i],
                Err(_) => v.get_mut(*p).unwrap(),
            };
        }
        v
    }

    #[test]
    fn the_example_is_a_whole_policy_with_about_2500_units() {
        let p = example();
        let units = p.units();
        assert!((2_300..=2_700).contains(&units.len()), "{}", units.len());
        assert_eq!(p.buildings.len(), 12);
        let mut keys = HashSet::new();
        assert!(units
            .iter()
            .all(|u| keys.insert((u.building.clone(), u.number.clone()))));
        assert!(units.iter().all(|u| u.area > Qty::ZERO));
        let text = p.render_zh();
        assert!(text.contains("安置面积以内"), "{text}");
        assert!(text.contains("签约：奖励每户 30,000.00 元"), "{text}");
    }

    #[test]
    fn overlapping_bands_are_refused_with_the_field() {
        let e = with(|t| {
            *at(t, &["price", "band", "1", "from"]) = toml::Value::String("5".into());
        })
        .unwrap_err();
        assert_eq!(e.field, "price.band[1].from");
        assert!(e.reason.contains("重叠"), "{e}");
        let e = with(|t| {
            *at(t, &["price", "band", "1", "from"]) = toml::Value::String("12".into());
        })
        .unwrap_err();
        assert!(e.reason.contains("空档"), "{e}");
    }

    #[test]
    fn every_check_names_its_field() {
        type Edit = Box<dyn Fn(&mut toml::Table)>;
        let cases: Vec<(&str, Edit)> = vec![
            ("title", Box::new(|t| *at(t, &["title"]) = "  ".into())),
            ("version", Box::new(|t| *at(t, &["version"]) = 0.into())),
            (
                "area.per_person",
                Box::new(|t| *at(t, &["area", "per_person"]) = "0".into()),
            ),
            (
                "price.band[0].to",
                Box::new(|t| *at(t, &["price", "band", "0", "to"]) = "0".into()),
            ),
            (
                "price.band[1].price",
                Box::new(|t| *at(t, &["price", "band", "1", "price"]) = "1".into()),
            ),
            (
                "structure[0].clause",
                Box::new(|t| *at(t, &["structure", "0", "clause"]) = "".into()),
            ),
            (
                "building[0].layouts",
                Box::new(|t| {
                    *at(t, &["building", "0", "layouts"]) = toml::Value::Array(vec!["Z".into()])
                }),
            ),
            (
                "reward[1].amount",
                Box::new(|t| *at(t, &["reward", "1", "amount"]) = "999999".into()),
            ),
            (
                "eligibility.newborns_until",
                Box::new(|t| {
                    *at(t, &["eligibility", "newborns_until"]) =
                        toml::Value::Datetime("2000-01-01".parse().unwrap())
                }),
            ),
        ];
        for (field, edit) in cases {
            let e = with(|t| edit(t)).unwrap_err();
            assert_eq!(e.field, field, "{e}");
        }
    }

    #[test]
    fn syntax_errors_and_floats_name_the_line() {
        let e = Policy::from_toml(
            "title = \"x\"\nversion = 1\neffective = 2026-01-01\n[area]\nper_person = 40.5\n",
        )
        .unwrap_err();
        assert_eq!(e.field, "第 5 行", "{e}");
        assert!(e.reason.contains("浮点数"), "{e}");
        let e = Policy::from_toml("title = \"x\"\nbogus = 1\n").unwrap_err();
        assert!(e.field.starts_with("第 2 行"), "{e}");
    }

    /// Two layouts of 92233720368547758 m² (an integer the decimal strings' bound did not
    /// cover) were accepted, and choosing both overflowed adding their areas up.
    #[test]
    fn areas_past_the_bound_are_refused_not_added_up_until_they_overflow() {
        let e = with(|t| {
            for i in ["0", "1"] {
                *at(t, &["layout", i, "area"]) = toml::Value::Integer(92_233_720_368_547_758);
            }
        })
        .unwrap_err();
        assert!(e.reason.contains("超出范围"), "{e}");
    }
}
