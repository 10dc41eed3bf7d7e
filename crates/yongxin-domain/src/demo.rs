//! 示范街道: a fictional subdistrict generated deterministically from a seed, for demos and tests.
//!
//! Names, identity numbers (valid check digits, fictional sequence numbers), phones and family
//! structure are plausible; no record describes a real person. The reference date is fixed so the
//! same seed always yields the same subdistrict.

use std::collections::HashSet;

use chrono::{Datelike, Duration, NaiveDate};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::id_number::IdNumber;
use crate::phone::Phone;
use crate::registry::{Relation, ResidentFlag, Sex, VillageKind};
use crate::roster::ResidentRecord;

/// Ages are computed against this date so the output never depends on the clock.
pub const REFERENCE_DATE: (i32, u32, u32) = (2026, 1, 1);

/// How big a subdistrict to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoSize {
    /// Grids per village or community.
    pub grids_per_village: usize,
    /// Households per grid.
    pub households_per_grid: usize,
}

impl DemoSize {
    /// The full demo: 7 units, 28 grids, 3,220 households, about 10,000 residents.
    pub const FULL: DemoSize = DemoSize {
        grids_per_village: 4,
        households_per_grid: 115,
    };
    /// A small one for tests.
    pub const SMALL: DemoSize = DemoSize {
        grids_per_village: 1,
        households_per_grid: 6,
    };
}

/// A generated village or community with its grids.
#[derive(Debug, Clone)]
pub struct DemoVillage {
    /// Short stable code (`V01`).
    pub code: String,
    /// Name (`东坞村`).
    pub name: String,
    /// Village or community.
    pub kind: VillageKind,
    /// Its grids.
    pub grids: Vec<DemoGrid>,
}

/// A generated grid (网格) and its responsible cadre (网格员).
#[derive(Debug, Clone)]
pub struct DemoGrid {
    /// Code (`V01-G1`).
    pub code: String,
    /// Name (`东坞村第一网格`).
    pub name: String,
    /// The responsible cadre's name.
    pub cadre_name: String,
    /// The responsible cadre's phone.
    pub cadre_phone: Phone,
}

/// A generated household.
#[derive(Debug, Clone)]
pub struct DemoHousehold {
    /// Index into [`DemoSubdistrict::villages`].
    pub village: usize,
    /// Index into that village's grids.
    pub grid: usize,
    /// 户号
    pub key: String,
    /// 地址
    pub address: String,
    /// Members, the head first.
    pub members: Vec<ResidentRecord>,
}

/// The whole generated subdistrict.
#[derive(Debug, Clone)]
pub struct DemoSubdistrict {
    /// 示范街道
    pub name: String,
    /// Villages and communities.
    pub villages: Vec<DemoVillage>,
    /// Households, grouped by grid.
    pub households: Vec<DemoHousehold>,
}

impl DemoSubdistrict {
    /// How many residents it has.
    pub fn resident_count(&self) -> usize {
        self.households.iter().map(|h| h.members.len()).sum()
    }
}

const UNITS: [(&str, VillageKind, &str); 7] = [
    ("东坞村", VillageKind::Village, "前街"),
    ("西坪村", VillageKind::Village, "中心街"),
    ("南庄村", VillageKind::Village, "南大街"),
    ("北岭村", VillageKind::Village, "岭上路"),
    ("春晖社区", VillageKind::Community, "春晖苑"),
    ("和园社区", VillageKind::Community, "和园小区"),
    ("锦绣社区", VillageKind::Community, "锦绣花园"),
];

const ORDINALS: [&str; 10] = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"];

// Common surnames, most frequent first; the generator favours the front of the list.
const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林",
    "何", "郭", "马", "罗", "梁", "宋", "郑", "谢", "韩", "唐", "冯", "于", "董", "萧", "程", "曹",
    "袁", "邓", "许", "傅", "沈", "曾", "彭", "吕", "苏", "卢", "蒋", "蔡", "贾", "丁", "魏", "薛",
    "叶", "阎", "尹", "崔", "孟", "姜", "邢", "田", "范", "杜", "石", "姚",
];
const MALE_CHARS: &[&str] = &[
    "伟", "强", "磊", "军", "勇", "杰", "涛", "斌", "超", "明", "刚", "平", "辉", "鹏", "华", "飞",
    "鑫", "波", "宁", "建", "国", "峰", "亮", "成", "志", "新", "春", "东", "海", "林", "文", "德",
    "宇", "浩", "俊", "博", "庆", "振", "长", "兴",
];
const FEMALE_CHARS: &[&str] = &[
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "燕", "玲", "桂", "英", "秀", "兰", "红", "梅",
    "琳", "婷", "雪", "慧", "颖", "倩", "欣", "洁", "萍", "玉", "凤", "琴", "云", "晶", "佳", "悦",
    "彤", "怡", "雯", "月", "荣", "珍", "莉", "爱",
];
// 历城区, Jinan: the seed essay's district. Sequence numbers are random, so no number is a real one.
const REGION_CODE: &str = "370112";
const PHONE_PREFIXES: &[&str] = &[
    "135", "136", "137", "138", "139", "150", "151", "152", "158", "159", "182", "187", "188",
    "130", "131", "132", "155", "156", "186", "133", "153", "180", "189", "177",
];

struct Generator {
    rng: ChaCha8Rng,
    used_ids: HashSet<String>,
    used_phones: HashSet<String>,
    today: NaiveDate,
}

impl Generator {
    fn surname(&mut self) -> &'static str {
        // Square the uniform draw to favour common surnames without a frequency table.
        let x: f64 = self.rng.gen::<f64>();
        SURNAMES[((x * x) * SURNAMES.len() as f64) as usize % SURNAMES.len()]
    }

    fn given(&mut self, sex: Sex) -> String {
        let chars = if sex == Sex::Male {
            MALE_CHARS
        } else {
            FEMALE_CHARS
        };
        let mut s = String::new();
        let n = if self.rng.gen_bool(0.7) { 2 } else { 1 };
        for _ in 0..n {
            s.push_str(chars.choose(&mut self.rng).copied().unwrap_or("明"));
        }
        s
    }

    fn birth_date(&mut self, age_from: i64, age_to: i64) -> NaiveDate {
        let age_days = self.rng.gen_range(age_from * 365..=age_to * 365 + 364);
        self.today - Duration::days(age_days)
    }

    fn id_number(&mut self, birth: NaiveDate, sex: Sex) -> IdNumber {
        loop {
            let mut seq: u32 = self.rng.gen_range(0..1000);
            if (seq % 2 == 1) != (sex == Sex::Male) {
                seq = (seq + 1) % 1000;
            }
            let first = format!("{REGION_CODE}{}{seq:03}", birth.format("%Y%m%d"));
            if let Some(id) = IdNumber::from_first_17(&first) {
                if self.used_ids.insert(id.as_str().to_owned()) {
                    return id;
                }
            }
        }
    }

    fn phone(&mut self) -> Phone {
        loop {
            let prefix = PHONE_PREFIXES
                .choose(&mut self.rng)
                .copied()
                .unwrap_or("138");
            let s = format!("{prefix}{:08}", self.rng.gen_range(0..100_000_000u32));
            if self.used_phones.insert(s.clone()) {
                if let Ok(p) = Phone::parse(&s) {
                    return p;
                }
            }
        }
    }

    fn person(
        &mut self,
        surname: &str,
        sex: Sex,
        birth: NaiveDate,
        relation: Relation,
    ) -> ResidentRecord {
        let age = self.age(birth);
        let name = format!("{surname}{}", self.given(sex));
        let id_number = self.id_number(birth, sex);
        let phone = (age >= 16 && self.rng.gen_bool(0.85)).then(|| self.phone());
        let mut flags = Vec::new();
        if (18..=23).contains(&age) && self.rng.gen_bool(0.4) {
            flags.push(ResidentFlag::Student);
        }
        if (18..=24).contains(&age) && sex == Sex::Male && self.rng.gen_bool(0.04) {
            flags.push(ResidentFlag::Soldier);
        }
        if age >= 18 && self.rng.gen_bool(0.07) {
            flags.push(ResidentFlag::PartyMember);
        }
        if self.rng.gen_bool(0.015) {
            flags.push(ResidentFlag::Disabled);
        }
        if relation == Relation::Head && self.rng.gen_bool(0.02) {
            flags.push(ResidentFlag::LowIncome);
        }
        if relation == Relation::Head && age >= 30 && self.rng.gen_bool(0.04) {
            flags.push(ResidentFlag::Representative);
        }
        // People who married in were registered here at marriage; the rest at birth.
        let registered_since = match relation {
            Relation::Spouse | Relation::ChildInLaw => {
                Some(birth + Duration::days(365 * self.rng.gen_range(21..30)))
            }
            _ => Some(birth),
        }
        .map(|d| d.min(self.today));
        ResidentRecord {
            name,
            sex,
            birth_date: birth,
            id_number,
            phone,
            relation,
            registered_since,
            flags,
        }
    }

    fn age(&self, birth: NaiveDate) -> i64 {
        let mut age = i64::from(self.today.year() - birth.year());
        if (self.today.month(), self.today.day()) < (birth.month(), birth.day()) {
            age -= 1;
        }
        age
    }

    fn household_size(&mut self) -> usize {
        let x: u32 = self.rng.gen_range(0..100);
        match x {
            0..=7 => 1,
            8..=27 => 2,
            28..=57 => 3,
            58..=79 => 4,
            80..=93 => 5,
            _ => 6,
        }
    }

    /// A family whose ages make sense: spouses of similar age, children born when the parents
    /// were 21–38, grandchildren likewise, the head's parents 20–35 years older than the head.
    fn family(&mut self, size: usize) -> Vec<ResidentRecord> {
        let head_sex = if self.rng.gen_bool(0.75) {
            Sex::Male
        } else {
            Sex::Female
        };
        let head_age = match size {
            1 => self.rng.gen_range(25..=85),
            _ => self.rng.gen_range(28..=78),
        };
        let head_birth = self.birth_date(head_age, head_age);
        let surname = self.surname();
        let mut members = vec![self.person(surname, head_sex, head_birth, Relation::Head)];
        if size == 1 {
            return members;
        }
        let spouse_sex = if head_sex == Sex::Male {
            Sex::Female
        } else {
            Sex::Male
        };
        let spouse_age = (head_age + self.rng.gen_range(-5..=5)).max(22);
        let spouse_birth = self.birth_date(spouse_age, spouse_age);
        let spouse_surname = self.surname();
        members.push(self.person(spouse_surname, spouse_sex, spouse_birth, Relation::Spouse));
        let child_surname = if head_sex == Sex::Male {
            surname
        } else {
            spouse_surname
        };
        let younger_parent = head_birth.max(spouse_birth);
        let mut remaining = size - 2;

        // Older couples live with a married child and grandchildren.
        if head_age >= 58 && remaining >= 3 {
            let child_birth = self.child_birth(younger_parent);
            let child_sex = if self.rng.gen_bool(0.7) {
                Sex::Male
            } else {
                Sex::Female
            };
            members.push(self.person(child_surname, child_sex, child_birth, Relation::Child));
            let in_law_sex = if child_sex == Sex::Male {
                Sex::Female
            } else {
                Sex::Male
            };
            let in_law_age = (self.age(child_birth) + self.rng.gen_range(-3..=3)).max(21);
            let in_law_birth = self.birth_date(in_law_age, in_law_age);
            let in_law_surname = self.surname();
            members.push(self.person(
                in_law_surname,
                in_law_sex,
                in_law_birth,
                Relation::ChildInLaw,
            ));
            remaining -= 2;
            let grandchild_surname = if child_sex == Sex::Male {
                child_surname
            } else {
                in_law_surname
            };
            let grand_parent = child_birth.max(in_law_birth);
            for _ in 0..remaining {
                if let Some(b) = self.child_birth_opt(grand_parent) {
                    let s = if self.rng.gen_bool(0.5) {
                        Sex::Male
                    } else {
                        Sex::Female
                    };
                    members.push(self.person(grandchild_surname, s, b, Relation::Grandchild));
                }
            }
            return members;
        }
        // Younger couples may have a widowed parent of the head living with them.
        if head_age <= 55 && remaining >= 2 && self.rng.gen_bool(0.4) {
            let gap = self.rng.gen_range(22..=34);
            let parent_age = (head_age + gap).min(95);
            let parent_birth = self.birth_date(parent_age, parent_age);
            let parent_sex = if self.rng.gen_bool(0.6) {
                Sex::Female
            } else {
                Sex::Male
            };
            let parent_surname = if parent_sex == Sex::Male {
                surname
            } else {
                self.surname()
            };
            members.push(self.person(parent_surname, parent_sex, parent_birth, Relation::Parent));
            remaining -= 1;
        }
        for _ in 0..remaining {
            match self.child_birth_opt(younger_parent) {
                Some(b) => {
                    let s = if self.rng.gen_bool(0.5) {
                        Sex::Male
                    } else {
                        Sex::Female
                    };
                    members.push(self.person(child_surname, s, b, Relation::Child));
                }
                None => {
                    let sibling_age = (head_age + self.rng.gen_range(-8..=8)).max(18);
                    let b = self.birth_date(sibling_age, sibling_age);
                    let s = if self.rng.gen_bool(0.5) {
                        Sex::Male
                    } else {
                        Sex::Female
                    };
                    members.push(self.person(surname, s, b, Relation::Sibling));
                }
            }
        }
        members
    }

    fn child_birth(&mut self, parent_birth: NaiveDate) -> NaiveDate {
        self.child_birth_opt(parent_birth)
            .unwrap_or(parent_birth + Duration::days(365 * 21))
            .min(self.today)
    }

    /// A birth date when the (younger) parent was 21–38, if that is not in the future.
    fn child_birth_opt(&mut self, parent_birth: NaiveDate) -> Option<NaiveDate> {
        let earliest = parent_birth + Duration::days(365 * 21);
        if earliest >= self.today {
            return None;
        }
        let latest = (parent_birth + Duration::days(365 * 38)).min(self.today - Duration::days(30));
        if latest <= earliest {
            return Some(earliest);
        }
        let span = (latest - earliest).num_days();
        Some(earliest + Duration::days(self.rng.gen_range(0..=span)))
    }
}

/// Generates the demo subdistrict for a seed.
pub fn generate(seed: u64, size: DemoSize) -> DemoSubdistrict {
    let (y, m, d) = REFERENCE_DATE;
    let mut g = Generator {
        rng: ChaCha8Rng::seed_from_u64(seed),
        used_ids: HashSet::new(),
        used_phones: HashSet::new(),
        today: NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN),
    };
    let mut villages = Vec::new();
    let mut households = Vec::new();
    for (vi, (name, kind, street)) in UNITS.iter().enumerate() {
        let code = format!("V{:02}", vi + 1);
        let mut grids = Vec::new();
        for gi in 0..size.grids_per_village {
            let cadre_sex = if g.rng.gen_bool(0.5) {
                Sex::Male
            } else {
                Sex::Female
            };
            let surname = g.surname();
            let cadre_name = format!("{surname}{}", g.given(cadre_sex));
            let cadre_phone = g.phone();
            grids.push(DemoGrid {
                code: format!("{code}-G{}", gi + 1),
                name: format!("{name}第{}网格", ORDINALS[gi % ORDINALS.len()]),
                cadre_name,
                cadre_phone,
            });
            for hi in 0..size.households_per_grid {
                let n = gi * size.households_per_grid + hi + 1;
                let address = match kind {
                    VillageKind::Village => format!("{name}{street}{n}号"),
                    VillageKind::Community => {
                        format!(
                            "{street}{}号楼{}单元{}0{}",
                            n / 24 + 1,
                            (n / 8) % 3 + 1,
                            (n % 8) / 2 + 1,
                            n % 2 + 1
                        )
                    }
                };
                let size = g.household_size();
                households.push(DemoHousehold {
                    village: vi,
                    grid: gi,
                    key: format!("{code}-{n:04}"),
                    address,
                    members: g.family(size),
                });
            }
        }
        villages.push(DemoVillage {
            code,
            name: (*name).to_owned(),
            kind: *kind,
            grids,
        });
    }
    DemoSubdistrict {
        name: "示范街道".to_owned(),
        villages,
        households,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_full_demo_is_big_enough() {
        let d = generate(2014, DemoSize::FULL);
        assert!(d.villages.len() >= 6);
        assert!(d.villages.iter().map(|v| v.grids.len()).sum::<usize>() >= 20);
        assert!(d.households.len() >= 3000, "{}", d.households.len());
        assert!(d.resident_count() >= 9000, "{}", d.resident_count());
    }

    #[test]
    fn the_same_seed_gives_the_same_subdistrict() {
        let a = generate(7, DemoSize::SMALL);
        let b = generate(7, DemoSize::SMALL);
        let c = generate(8, DemoSize::SMALL);
        let names = |d: &DemoSubdistrict| {
            d.households
                .iter()
                .flat_map(|h| h.members.iter().map(|m| m.id_number.as_str().to_owned()))
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&a), names(&b));
        assert_ne!(names(&a), names(&c));
    }

    #[test]
    fn every_person_is_consistent() {
        let d = generate(2014, DemoSize::FULL);
        let today = NaiveDate::from_ymd_opt(2026, 1, 1).expect("date");
        let mut ids = HashSet::new();
        let mut keys = HashSet::new();
        for h in &d.households {
            assert!(keys.insert(h.key.clone()));
            assert_eq!(
                h.members
                    .iter()
                    .filter(|m| m.relation == Relation::Head)
                    .count(),
                1
            );
            assert_eq!(h.members[0].relation, Relation::Head);
            let head = &h.members[0];
            for m in &h.members {
                assert!(ids.insert(m.id_number.as_str().to_owned()), "duplicate id");
                assert_eq!(
                    IdNumber::parse(m.id_number.as_str()).as_ref(),
                    Ok(&m.id_number)
                );
                assert_eq!(m.id_number.birth_date(), m.birth_date);
                assert_eq!(m.id_number.sex(), m.sex);
                assert!(m.birth_date < today);
                let name_len = m.name.chars().count();
                assert!((2..=3).contains(&name_len), "{}", m.name);
                let years = |a: NaiveDate, b: NaiveDate| (b - a).num_days() / 365;
                match m.relation {
                    Relation::Child => assert!(
                        years(head.birth_date, m.birth_date) >= 15,
                        "child too close in age"
                    ),
                    Relation::Parent => assert!(years(m.birth_date, head.birth_date) >= 18),
                    Relation::Grandchild => assert!(years(head.birth_date, m.birth_date) >= 36),
                    _ => {}
                }
                if m.flags.contains(&ResidentFlag::Soldier) {
                    assert_eq!(m.sex, Sex::Male);
                }
            }
        }
    }
}
