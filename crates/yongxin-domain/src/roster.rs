//! 花名册: the household roster exchanged as a spreadsheet, one row per resident.
//!
//! Validation is all-or-nothing: [`validate`] either returns every household ready to store or
//! every problem found, each naming its spreadsheet row and column.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;

use crate::id_number::{IdNumber, IdNumberError};
use crate::phone::Phone;
use crate::registry::{parse_flags, Relation, ResidentFlag, Sex};

/// A roster column, in the order `export` writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    /// 户号: the household's key, shared by all its rows.
    HouseholdKey,
    /// 村/社区: village or community, by name or code.
    Village,
    /// 网格: grid, by code or name within the village.
    Grid,
    /// 地址
    Address,
    /// 姓名
    Name,
    /// 性别 (男/女)
    Sex,
    /// 出生日期 (YYYY-MM-DD)
    BirthDate,
    /// 身份证号
    IdNumber,
    /// 手机号 (optional)
    Phone,
    /// 与户主关系
    Relation,
    /// 户籍登记日期 (optional, YYYY-MM-DD)
    RegisteredSince,
    /// 人员标记 (optional)
    Flags,
}

impl Column {
    /// Every column in export order.
    pub const ALL: [Column; 12] = [
        Column::HouseholdKey,
        Column::Village,
        Column::Grid,
        Column::Address,
        Column::Name,
        Column::Sex,
        Column::BirthDate,
        Column::IdNumber,
        Column::Phone,
        Column::Relation,
        Column::RegisteredSince,
        Column::Flags,
    ];

    /// The Chinese header `export` writes.
    pub fn header(self) -> &'static str {
        match self {
            Column::HouseholdKey => "户号",
            Column::Village => "村/社区",
            Column::Grid => "网格",
            Column::Address => "地址",
            Column::Name => "姓名",
            Column::Sex => "性别",
            Column::BirthDate => "出生日期",
            Column::IdNumber => "身份证号",
            Column::Phone => "手机号",
            Column::Relation => "与户主关系",
            Column::RegisteredSince => "户籍登记日期",
            Column::Flags => "人员标记",
        }
    }

    /// The English code also accepted as a header.
    pub fn code(self) -> &'static str {
        match self {
            Column::HouseholdKey => "household_key",
            Column::Village => "village",
            Column::Grid => "grid",
            Column::Address => "address",
            Column::Name => "name",
            Column::Sex => "sex",
            Column::BirthDate => "birth_date",
            Column::IdNumber => "id_number",
            Column::Phone => "phone",
            Column::Relation => "relation",
            Column::RegisteredSince => "registered_since",
            Column::Flags => "flags",
        }
    }

    /// Whether a roster must have this column.
    pub fn required(self) -> bool {
        !matches!(
            self,
            Column::Phone | Column::RegisteredSince | Column::Flags
        )
    }

    /// Recognises a header cell (Chinese or English code, surrounding spaces ignored).
    pub fn from_header(s: &str) -> Option<Self> {
        let s = s.trim();
        Self::ALL
            .into_iter()
            .find(|c| c.header() == s || c.code() == s)
    }
}

/// One resident row as read from the file, before any check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RosterRow {
    /// The spreadsheet row number (the header is row 1).
    pub row: usize,
    /// Cell text by column; a missing column reads as empty.
    pub cells: HashMap<Column, String>,
}

impl RosterRow {
    fn get(&self, c: Column) -> &str {
        self.cells.get(&c).map(|s| s.trim()).unwrap_or("")
    }
}

/// Why a row (or the file) was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RosterReason {
    /// The header row lacks a required column.
    MissingColumn,
    /// The file has no resident rows.
    Empty,
    /// The file is neither a readable .xlsx workbook nor CSV text.
    Unreadable,
    /// The file is larger than an import takes: rows, columns, or the size of its unpacked parts.
    TooLarge {
        /// Most rows.
        rows: usize,
        /// Most columns.
        columns: usize,
        /// Most MiB unpacked.
        mb: usize,
    },
    /// A required cell is empty.
    Required,
    /// The identity number is not 18 characters of the right kind.
    IdFormat,
    /// The identity number's birth date is not a real date.
    IdBirthDate,
    /// The identity number's check digit is wrong.
    IdChecksum,
    /// The birth date column differs from the one in the identity number.
    IdBirthDateMismatch,
    /// The sex column differs from the one in the identity number.
    IdSexMismatch,
    /// The same identity number appears on an earlier row.
    DuplicateId {
        /// The earlier row.
        first_row: usize,
    },
    /// The identity number belongs to a resident of another household already registered.
    IdRegisteredElsewhere {
        /// That household's key.
        household_key: String,
    },
    /// Not an 11-digit mobile number.
    Phone,
    /// Not a date written YYYY-MM-DD.
    Date,
    /// Not 男 or 女.
    Sex,
    /// Not a known relation.
    Relation,
    /// Not a known flag.
    Flag {
        /// The unknown word.
        value: String,
    },
    /// No such village or community.
    UnknownVillage,
    /// No such grid in the village.
    UnknownGrid,
    /// A household must have exactly one head.
    HeadCount {
        /// How many heads it has.
        count: usize,
    },
    /// A household's rows disagree on its village, grid or address.
    InconsistentHousehold {
        /// The row that set the value first.
        first_row: usize,
    },
}

impl RosterReason {
    /// The stable code, also the message catalog key suffix.
    pub fn code(&self) -> &'static str {
        match self {
            RosterReason::MissingColumn => "missing_column",
            RosterReason::Empty => "empty",
            RosterReason::Unreadable => "unreadable",
            RosterReason::TooLarge { .. } => "too_large",
            RosterReason::Required => "required",
            RosterReason::IdFormat => "id_format",
            RosterReason::IdBirthDate => "id_birth_date",
            RosterReason::IdChecksum => "id_checksum",
            RosterReason::IdBirthDateMismatch => "id_birth_date_mismatch",
            RosterReason::IdSexMismatch => "id_sex_mismatch",
            RosterReason::DuplicateId { .. } => "duplicate_id",
            RosterReason::IdRegisteredElsewhere { .. } => "id_registered_elsewhere",
            RosterReason::Phone => "phone",
            RosterReason::Date => "date",
            RosterReason::Sex => "sex",
            RosterReason::Relation => "relation",
            RosterReason::Flag { .. } => "flag",
            RosterReason::UnknownVillage => "unknown_village",
            RosterReason::UnknownGrid => "unknown_grid",
            RosterReason::HeadCount { .. } => "head_count",
            RosterReason::InconsistentHousehold { .. } => "inconsistent_household",
        }
    }

    /// Values the message fills in, by placeholder name.
    pub fn params(&self) -> Vec<(&'static str, String)> {
        match self {
            RosterReason::DuplicateId { first_row }
            | RosterReason::InconsistentHousehold { first_row } => {
                vec![("row", first_row.to_string())]
            }
            RosterReason::IdRegisteredElsewhere { household_key } => {
                vec![("household", household_key.clone())]
            }
            RosterReason::Flag { value } => vec![("value", value.clone())],
            RosterReason::HeadCount { count } => vec![("count", count.to_string())],
            RosterReason::TooLarge { rows, columns, mb } => vec![
                ("rows", rows.to_string()),
                ("columns", columns.to_string()),
                ("mb", mb.to_string()),
            ],
            _ => vec![],
        }
    }
}

/// One problem in a roster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterIssue {
    /// Spreadsheet row (1 is the header; 0 means the file as a whole).
    pub row: usize,
    /// The column at fault, if one is.
    pub column: Option<Column>,
    /// Household key the row belongs to, when known.
    pub household_key: Option<String>,
    /// What is wrong.
    pub reason: RosterReason,
}

/// A resident ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResidentRecord {
    /// 姓名
    pub name: String,
    /// 性别
    pub sex: Sex,
    /// 出生日期
    pub birth_date: NaiveDate,
    /// 身份证号
    pub id_number: IdNumber,
    /// 手机号
    pub phone: Option<Phone>,
    /// 与户主关系
    pub relation: Relation,
    /// 户籍登记日期: when the residence was registered here.
    pub registered_since: Option<NaiveDate>,
    /// 人员标记
    pub flags: Vec<ResidentFlag>,
}

/// A household ready to store, its head first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HouseholdRecord {
    /// 户号
    pub key: String,
    /// The village's id.
    pub village_id: i64,
    /// The grid's id.
    pub grid_id: i64,
    /// 地址
    pub address: String,
    /// Members, the head first.
    pub members: Vec<ResidentRecord>,
}

/// What validation needs to know of the registry as it stands.
#[derive(Debug, Clone, Default)]
pub struct RegistryLookup {
    /// Village id by name and by code.
    pub villages: HashMap<String, i64>,
    /// Grid id by (village id, grid code or name).
    pub grids: HashMap<(i64, String), i64>,
    /// Household key by identity number, for residents already registered.
    pub registered_ids: HashMap<String, String>,
}

/// Checks a whole roster. Either every household is returned, or every problem.
pub fn validate(
    rows: &[RosterRow],
    lookup: &RegistryLookup,
) -> Result<Vec<HouseholdRecord>, Vec<RosterIssue>> {
    let mut issues = Vec::new();
    if rows.is_empty() {
        issues.push(RosterIssue {
            row: 0,
            column: None,
            household_key: None,
            reason: RosterReason::Empty,
        });
        return Err(issues);
    }
    struct Pending {
        first_row: usize,
        village_id: Option<i64>,
        grid_id: Option<i64>,
        address: String,
        village_text: String,
        grid_text: String,
        members: Vec<(usize, ResidentRecord)>,
        heads: usize,
    }
    let mut households: BTreeMap<String, Pending> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut seen_ids: HashMap<String, usize> = HashMap::new();

    for row in rows {
        let key = row.get(Column::HouseholdKey).to_owned();
        let bad = |column: Column, reason: RosterReason, issues: &mut Vec<RosterIssue>| {
            issues.push(RosterIssue {
                row: row.row,
                column: Some(column),
                household_key: (!key.is_empty()).then(|| key.clone()),
                reason,
            });
        };
        for c in Column::ALL.into_iter().filter(|c| c.required()) {
            if row.get(c).is_empty() {
                bad(c, RosterReason::Required, &mut issues);
            }
        }
        let village_text = row.get(Column::Village);
        let village_id = if village_text.is_empty() {
            None
        } else {
            let v = lookup.villages.get(village_text).copied();
            if v.is_none() {
                bad(Column::Village, RosterReason::UnknownVillage, &mut issues);
            }
            v
        };
        let grid_text = row.get(Column::Grid);
        let grid_id = match village_id {
            Some(v) if !grid_text.is_empty() => {
                let g = lookup.grids.get(&(v, grid_text.to_owned())).copied();
                if g.is_none() {
                    bad(Column::Grid, RosterReason::UnknownGrid, &mut issues);
                }
                g
            }
            _ => None,
        };
        let id_text = row.get(Column::IdNumber);
        let id = if id_text.is_empty() {
            None
        } else {
            match IdNumber::parse(id_text) {
                Ok(id) => Some(id),
                Err(e) => {
                    let reason = match e {
                        IdNumberError::Format => RosterReason::IdFormat,
                        IdNumberError::BirthDate => RosterReason::IdBirthDate,
                        IdNumberError::Checksum => RosterReason::IdChecksum,
                    };
                    bad(Column::IdNumber, reason, &mut issues);
                    None
                }
            }
        };
        if let Some(id) = &id {
            if let Some(first_row) = seen_ids.get(id.as_str()) {
                bad(
                    Column::IdNumber,
                    RosterReason::DuplicateId {
                        first_row: *first_row,
                    },
                    &mut issues,
                );
            } else {
                seen_ids.insert(id.as_str().to_owned(), row.row);
            }
        }
        let sex_text = row.get(Column::Sex);
        let sex = if sex_text.is_empty() {
            None
        } else {
            let s = Sex::parse(sex_text);
            if s.is_none() {
                bad(Column::Sex, RosterReason::Sex, &mut issues);
            }
            s
        };
        let birth_text = row.get(Column::BirthDate);
        let birth_date = if birth_text.is_empty() {
            None
        } else {
            let d = parse_date(birth_text);
            if d.is_none() {
                bad(Column::BirthDate, RosterReason::Date, &mut issues);
            }
            d
        };
        if let (Some(id), Some(birth)) = (&id, birth_date) {
            if id.birth_date() != birth {
                bad(
                    Column::BirthDate,
                    RosterReason::IdBirthDateMismatch,
                    &mut issues,
                );
            }
        }
        if let (Some(id), Some(sex)) = (&id, sex) {
            if id.sex() != sex {
                bad(Column::Sex, RosterReason::IdSexMismatch, &mut issues);
            }
        }
        let phone_text = row.get(Column::Phone);
        let phone = if phone_text.is_empty() {
            None
        } else {
            let p = Phone::parse(phone_text).ok();
            if p.is_none() {
                bad(Column::Phone, RosterReason::Phone, &mut issues);
            }
            p
        };
        let relation_text = row.get(Column::Relation);
        let relation = if relation_text.is_empty() {
            None
        } else {
            let r = Relation::parse(relation_text);
            if r.is_none() {
                bad(Column::Relation, RosterReason::Relation, &mut issues);
            }
            r
        };
        let since_text = row.get(Column::RegisteredSince);
        let registered_since = if since_text.is_empty() {
            None
        } else {
            let d = parse_date(since_text);
            if d.is_none() {
                bad(Column::RegisteredSince, RosterReason::Date, &mut issues);
            }
            d
        };
        let flags = match parse_flags(row.get(Column::Flags)) {
            Ok(f) => f,
            Err(value) => {
                bad(Column::Flags, RosterReason::Flag { value }, &mut issues);
                Vec::new()
            }
        };
        if key.is_empty() {
            continue;
        }
        let address = row.get(Column::Address).to_owned();
        let pending = households.entry(key.clone()).or_insert_with(|| {
            order.push(key.clone());
            Pending {
                first_row: row.row,
                village_id,
                grid_id,
                address: address.clone(),
                village_text: village_text.to_owned(),
                grid_text: grid_text.to_owned(),
                members: Vec::new(),
                heads: 0,
            }
        });
        if pending.first_row != row.row {
            let first_row = pending.first_row;
            for (column, same) in [
                (Column::Village, pending.village_text == village_text),
                (Column::Grid, pending.grid_text == grid_text),
                (Column::Address, pending.address == address),
            ] {
                if !same {
                    bad(
                        column,
                        RosterReason::InconsistentHousehold { first_row },
                        &mut issues,
                    );
                }
            }
        }
        if relation == Some(Relation::Head) {
            pending.heads += 1;
        }
        if let (Some(id), Some(sex), Some(birth_date), Some(relation)) =
            (id, sex, birth_date, relation)
        {
            pending.members.push((
                row.row,
                ResidentRecord {
                    name: row.get(Column::Name).to_owned(),
                    sex,
                    birth_date,
                    id_number: id,
                    phone,
                    relation,
                    registered_since,
                    flags,
                },
            ));
        }
    }

    for key in &order {
        let Some(p) = households.get(key) else {
            continue;
        };
        if p.heads != 1 {
            issues.push(RosterIssue {
                row: p.first_row,
                column: Some(Column::Relation),
                household_key: Some(key.clone()),
                reason: RosterReason::HeadCount { count: p.heads },
            });
        }
        for (row, m) in &p.members {
            if let Some(other) = lookup.registered_ids.get(m.id_number.as_str()) {
                if other != key && !households.contains_key(other) {
                    issues.push(RosterIssue {
                        row: *row,
                        column: Some(Column::IdNumber),
                        household_key: Some(key.clone()),
                        reason: RosterReason::IdRegisteredElsewhere {
                            household_key: other.clone(),
                        },
                    });
                }
            }
        }
    }
    if !issues.is_empty() {
        issues.sort_by_key(|i| i.row);
        return Err(issues);
    }
    Ok(order
        .into_iter()
        .filter_map(|key| households.remove(&key).map(|p| (key, p)))
        .filter_map(|(key, p)| {
            let mut members: Vec<ResidentRecord> = p.members.into_iter().map(|(_, m)| m).collect();
            members.sort_by_key(|m| m.relation != Relation::Head);
            Some(HouseholdRecord {
                key,
                village_id: p.village_id?,
                grid_id: p.grid_id?,
                address: p.address,
                members,
            })
        })
        .collect())
}

/// Reads a date written 2026-01-31, 2026/1/31 or 20260131.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%Y/%m/%d"))
        .or_else(|_| NaiveDate::parse_from_str(s, "%Y%m%d"))
        .ok()
}

/// Turns stored records back into roster rows (the layout `export` writes), given the village
/// and grid labels to print.
pub fn record_cells(m: &ResidentRecord) -> Vec<(Column, String)> {
    vec![
        (Column::Name, m.name.clone()),
        (Column::Sex, m.sex.zh().to_owned()),
        (
            Column::BirthDate,
            m.birth_date.format("%Y-%m-%d").to_string(),
        ),
        (Column::IdNumber, m.id_number.as_str().to_owned()),
        (
            Column::Phone,
            m.phone
                .as_ref()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_default(),
        ),
        (Column::Relation, m.relation.zh().to_owned()),
        (
            Column::RegisteredSince,
            m.registered_since
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
        ),
        (Column::Flags, crate::registry::flags_to_zh(&m.flags)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup() -> RegistryLookup {
        let mut l = RegistryLookup::default();
        l.villages.insert("东坞村".into(), 1);
        l.villages.insert("V01".into(), 1);
        l.grids.insert((1, "V01-G1".into()), 10);
        l
    }

    fn row(n: usize, key: &str, name: &str, id: &str, relation: &str) -> RosterRow {
        let id_num = IdNumber::parse(id).ok();
        let mut cells = HashMap::new();
        cells.insert(Column::HouseholdKey, key.to_owned());
        cells.insert(Column::Village, "东坞村".to_owned());
        cells.insert(Column::Grid, "V01-G1".to_owned());
        cells.insert(Column::Address, "前街1号".to_owned());
        cells.insert(Column::Name, name.to_owned());
        cells.insert(
            Column::Sex,
            id_num
                .as_ref()
                .map(|i| i.sex().zh())
                .unwrap_or("男")
                .to_owned(),
        );
        cells.insert(
            Column::BirthDate,
            id_num
                .as_ref()
                .map(|i| i.birth_date().to_string())
                .unwrap_or("1980-01-01".into()),
        );
        cells.insert(Column::IdNumber, id.to_owned());
        cells.insert(Column::Relation, relation.to_owned());
        RosterRow { row: n, cells }
    }

    fn id(first17: &str) -> String {
        IdNumber::from_first_17(first17)
            .expect("valid")
            .as_str()
            .to_owned()
    }

    #[test]
    fn a_good_roster_yields_households_with_the_head_first() {
        let rows = vec![
            row(2, "H1", "王芳", &id("37011219820304002"), "配偶"),
            row(3, "H1", "李强", &id("37011219800101001"), "户主"),
            row(4, "H2", "赵敏", &id("37011219900505002"), "户主"),
        ];
        let hs = validate(&rows, &lookup()).expect("valid");
        assert_eq!(hs.len(), 2);
        assert_eq!(hs[0].members[0].name, "李强");
        assert_eq!(hs[0].grid_id, 10);
    }

    #[test]
    fn every_problem_is_reported_with_row_and_column() {
        let good = id("37011219800101001");
        let mut bad_checksum = good.clone();
        bad_checksum.replace_range(17.., if good.ends_with('0') { "1" } else { "0" });
        let mut r5 = row(5, "H3", "孙丽", &id("37011219850101002"), "户主");
        r5.cells.insert(Column::Village, "无名村".into());
        let mut r6 = row(6, "H4", "周杰", &id("37011219700101003"), "户主");
        r6.cells.insert(Column::Phone, "12345".into());
        r6.cells.insert(Column::Sex, "女".into());
        let rows = vec![
            row(2, "H1", "李强", &good, "户主"),
            row(3, "H1", "李四", &good, "子女"),
            row(4, "H2", "王五", &bad_checksum, "户主"),
            r5,
            r6,
            row(7, "H5", "吴六", &id("37011219600101005"), "配偶"),
        ];
        let issues = validate(&rows, &lookup()).expect_err("bad");
        let found: Vec<(usize, Option<Column>, &str)> = issues
            .iter()
            .map(|i| (i.row, i.column, i.reason.code()))
            .collect();
        assert!(
            found.contains(&(3, Some(Column::IdNumber), "duplicate_id")),
            "{found:?}"
        );
        assert!(
            found.contains(&(4, Some(Column::IdNumber), "id_checksum")),
            "{found:?}"
        );
        assert!(
            found.contains(&(5, Some(Column::Village), "unknown_village")),
            "{found:?}"
        );
        assert!(
            found.contains(&(6, Some(Column::Phone), "phone")),
            "{found:?}"
        );
        assert!(
            found.contains(&(6, Some(Column::Sex), "id_sex_mismatch")),
            "{found:?}"
        );
        assert!(
            found.contains(&(7, Some(Column::Relation), "head_count")),
            "{found:?}"
        );
    }

    #[test]
    fn two_heads_and_inconsistent_addresses_are_refused() {
        let mut r3 = row(3, "H1", "李四", &id("37011219820101003"), "户主");
        r3.cells.insert(Column::Address, "后街9号".into());
        let rows = vec![row(2, "H1", "李强", &id("37011219800101001"), "户主"), r3];
        let issues = validate(&rows, &lookup()).expect_err("bad");
        let codes: Vec<_> = issues.iter().map(|i| i.reason.clone()).collect();
        assert!(codes.contains(&RosterReason::HeadCount { count: 2 }));
        assert!(codes.contains(&RosterReason::InconsistentHousehold { first_row: 2 }));
    }

    #[test]
    fn an_id_already_registered_in_another_household_is_refused() {
        let taken = id("37011219800101001");
        let mut l = lookup();
        l.registered_ids.insert(taken.clone(), "H9".into());
        let issues = validate(&[row(2, "H1", "李强", &taken, "户主")], &l).expect_err("bad");
        assert_eq!(
            issues[0].reason,
            RosterReason::IdRegisteredElsewhere {
                household_key: "H9".into()
            }
        );
        // Re-importing the same household is an update, not a conflict.
        l.registered_ids.insert(taken.clone(), "H1".into());
        assert!(validate(&[row(2, "H1", "李强", &taken, "户主")], &l).is_ok());
    }

    #[test]
    fn empty_rosters_and_missing_cells_are_refused() {
        assert_eq!(
            validate(&[], &lookup()).expect_err("empty")[0].reason,
            RosterReason::Empty
        );
        let mut r = row(2, "H1", "", &id("37011219800101001"), "户主");
        r.cells.remove(&Column::Name);
        let issues = validate(&[r], &lookup()).expect_err("bad");
        assert_eq!(
            (issues[0].column, &issues[0].reason),
            (Some(Column::Name), &RosterReason::Required)
        );
    }

    #[test]
    fn headers_are_read_in_both_languages() {
        for c in Column::ALL {
            assert_eq!(Column::from_header(c.header()), Some(c));
            assert_eq!(Column::from_header(&format!(" {} ", c.code())), Some(c));
        }
        assert_eq!(
            parse_date("2026/1/31"),
            NaiveDate::from_ymd_opt(2026, 1, 31)
        );
        assert_eq!(parse_date("20260131"), NaiveDate::from_ymd_opt(2026, 1, 31));
        assert_eq!(parse_date("2026-02-30"), None);
    }
}
