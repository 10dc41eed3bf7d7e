//! The registry's small vocabularies: sex, relation to the household head (与户主关系), resident
//! flags used by policies, and the kind of a village (村) or community (社区).

use serde::{Deserialize, Serialize};

/// 性别: sex as recorded on the identity card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    /// 男
    Male,
    /// 女
    Female,
}

impl Sex {
    /// The stable code stored in databases and APIs.
    pub fn code(self) -> &'static str {
        match self {
            Sex::Male => "male",
            Sex::Female => "female",
        }
    }

    /// Reads a stored code or the Chinese word a roster uses (男/女).
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "male" | "男" | "M" | "m" => Some(Sex::Male),
            "female" | "女" | "F" | "f" => Some(Sex::Female),
            _ => None,
        }
    }

    /// The Chinese word rosters use.
    pub fn zh(self) -> &'static str {
        match self {
            Sex::Male => "男",
            Sex::Female => "女",
        }
    }
}

code_enum! {
    /// 与户主关系: a resident's relation to the head of the household.
    Relation {
        /// 户主
        Head = ("head", "户主"),
        /// 配偶
        Spouse = ("spouse", "配偶"),
        /// 子女
        Child = ("child", "子女"),
        /// 父母
        Parent = ("parent", "父母"),
        /// 孙子女
        Grandchild = ("grandchild", "孙子女"),
        /// 儿媳 / 女婿
        ChildInLaw = ("child_in_law", "儿媳女婿"),
        /// 兄弟姐妹
        Sibling = ("sibling", "兄弟姐妹"),
        /// 其他
        Other = ("other", "其他"),
    }
}

code_enum! {
    /// 人员标记: facts about a resident that resettlement and other policies count.
    ResidentFlag {
        /// 在校学生 (registration kept while studying elsewhere)
        Student = ("student", "在校学生"),
        /// 现役军人
        Soldier = ("soldier", "现役军人"),
        /// 残疾
        Disabled = ("disabled", "残疾"),
        /// 低保
        LowIncome = ("low_income", "低保"),
        /// 党员
        PartyMember = ("party_member", "党员"),
        /// 村民代表
        Representative = ("representative", "村民代表"),
    }
}

code_enum! {
    /// Whether a unit under the subdistrict is a village (村) or an urban community (社区).
    VillageKind {
        /// 村
        Village = ("village", "村"),
        /// 社区
        Community = ("community", "社区"),
    }
}

/// Parses a flag list written as codes or Chinese words separated by commas, semicolons or spaces.
pub fn parse_flags(s: &str) -> Result<Vec<ResidentFlag>, String> {
    let mut flags = Vec::new();
    for part in s
        .split([',', '，', ';', '；', ' ', '、'])
        .filter(|p| !p.trim().is_empty())
    {
        let flag = ResidentFlag::parse(part).ok_or_else(|| part.trim().to_owned())?;
        if !flags.contains(&flag) {
            flags.push(flag);
        }
    }
    Ok(flags)
}

/// Writes flags as the comma-separated codes stored in databases.
pub fn flags_to_codes(flags: &[ResidentFlag]) -> String {
    flags.iter().map(|f| f.code()).collect::<Vec<_>>().join(",")
}

/// Writes flags as the Chinese words rosters use.
pub fn flags_to_zh(flags: &[ResidentFlag]) -> String {
    flags.iter().map(|f| f.zh()).collect::<Vec<_>>().join("、")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabularies_round_trip_codes_and_chinese() {
        for r in Relation::ALL {
            assert_eq!(Relation::parse(r.code()), Some(*r));
            assert_eq!(Relation::parse(r.zh()), Some(*r));
        }
        for f in ResidentFlag::ALL {
            assert_eq!(ResidentFlag::parse(f.zh()), Some(*f));
        }
        assert_eq!(Sex::parse("女"), Some(Sex::Female));
        assert_eq!(Relation::parse("朋友"), None);
    }

    #[test]
    fn flags_parse_mixed_separators_and_report_unknown() {
        assert_eq!(
            parse_flags("党员、student, 党员").expect("known"),
            vec![ResidentFlag::PartyMember, ResidentFlag::Student]
        );
        assert_eq!(parse_flags(""), Ok(vec![]));
        assert_eq!(parse_flags("党员,富豪"), Err("富豪".to_owned()));
        let all = ResidentFlag::ALL.to_vec();
        assert_eq!(parse_flags(&flags_to_codes(&all)), Ok(all.clone()));
        assert_eq!(parse_flags(&flags_to_zh(&all)), Ok(all));
    }
}
