//! 诉求分类目录: the service catalogue. Each category has its own extra questions, default
//! department and deadlines per urgency; the answers a resident gives are checked here.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::appeal::{Urgency, MAX_TEXT_CHARS};
use crate::calendar::WorkingCalendar;

/// The kinds of extra question (named as Open311 names its attribute datatypes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    /// One line of text.
    String,
    /// A number.
    Number,
    /// A date and time.
    Datetime,
    /// Several lines of text.
    Text,
    /// One of the choices (Open311 `singlevaluelist`).
    SingleChoice,
    /// Any of the choices (Open311 `multivaluelist`).
    MultiChoice,
}

impl QuestionKind {
    /// Open311's datatype name.
    pub fn open311(self) -> &'static str {
        match self {
            QuestionKind::String => "string",
            QuestionKind::Number => "number",
            QuestionKind::Datetime => "datetime",
            QuestionKind::Text => "text",
            QuestionKind::SingleChoice => "singlevaluelist",
            QuestionKind::MultiChoice => "multivaluelist",
        }
    }
}

/// A choice of a choice question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    /// Stable key sent back in answers.
    pub key: String,
    /// Label shown.
    pub name: String,
}

/// An extra question a category asks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    /// Stable code (`attribute[code]` in Open311).
    pub code: String,
    /// The question in Chinese.
    pub label_zh: String,
    /// The question in English.
    pub label_en: String,
    /// What kind of answer.
    pub kind: QuestionKind,
    /// Whether an answer is required.
    pub required: bool,
    /// Choices of a choice question.
    #[serde(default)]
    pub choices: Vec<Choice>,
}

/// Deadlines of one urgency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadlines {
    /// 联系时限: hours to first contact: working hours (days off do not count) for a normal case,
    /// clock hours for an urgent one.
    pub contact_hours: u32,
    /// 办结时限: working days to the answer.
    pub resolution_days: u32,
}

/// A category of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    /// Stable code (Open311 `service_code`).
    pub code: String,
    /// Group it is listed under.
    pub group: String,
    /// Name in Chinese.
    pub name_zh: String,
    /// Name in English.
    pub name_en: String,
    /// What belongs here.
    pub description: String,
    /// Department new cases go to by default.
    pub department: String,
    /// Deadlines for normal cases.
    pub normal: Deadlines,
    /// Deadlines for urgent cases.
    pub urgent: Deadlines,
    /// Extra questions.
    #[serde(default)]
    pub questions: Vec<Question>,
}

/// Why a category definition was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CategoryError {
    /// The code is empty or has characters other than a–z, 0–9 and _.
    #[error("code must be lowercase letters, digits and _")]
    Code,
    /// A name is empty.
    #[error("both names are required")]
    Name,
    /// A deadline is zero or absurd.
    #[error("deadlines must be 1–720 hours and 1–60 working days")]
    Deadline,
    /// Two questions share a code, or a question code is malformed.
    #[error("question codes must be unique lowercase words")]
    QuestionCode,
    /// A choice question has no choices.
    #[error("a choice question needs choices")]
    NoChoices,
}

/// Why a definition written as TOML was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DefinitionError {
    /// Not TOML of a category's shape; the parser's message.
    #[error("{0}")]
    Syntax(String),
    /// Well-formed but refused by [`Category::check`].
    #[error(transparent)]
    Invalid(#[from] CategoryError),
}

impl Category {
    /// Reads and checks a definition an administrator wrote as TOML (the admin page's form).
    pub fn from_toml(text: &str) -> Result<Category, DefinitionError> {
        let category: Category =
            toml::from_str(text).map_err(|e| DefinitionError::Syntax(e.message().to_owned()))?;
        category.check()?;
        Ok(category)
    }

    /// Checks a definition an administrator wrote.
    pub fn check(&self) -> Result<(), CategoryError> {
        let word = |s: &str| {
            !s.is_empty()
                && s.len() <= 40
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        };
        if !word(&self.code) {
            return Err(CategoryError::Code);
        }
        if self.name_zh.trim().is_empty() || self.name_en.trim().is_empty() {
            return Err(CategoryError::Name);
        }
        for d in [self.normal, self.urgent] {
            if !(1..=720).contains(&d.contact_hours) || !(1..=60).contains(&d.resolution_days) {
                return Err(CategoryError::Deadline);
            }
        }
        let mut codes = std::collections::BTreeSet::new();
        for q in &self.questions {
            if !word(&q.code) || !codes.insert(q.code.as_str()) {
                return Err(CategoryError::QuestionCode);
            }
            if matches!(
                q.kind,
                QuestionKind::SingleChoice | QuestionKind::MultiChoice
            ) && q.choices.is_empty()
            {
                return Err(CategoryError::NoChoices);
            }
        }
        Ok(())
    }
}

/// The deadlines of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseDeadlines {
    /// Contact due.
    pub contact_due: DateTime<Utc>,
    /// Answer due.
    pub resolution_due: DateTime<Utc>,
}

impl Category {
    /// The deadlines of a case of this category submitted at `submitted_at`.
    pub fn deadlines(
        &self,
        urgency: Urgency,
        submitted_at: DateTime<Utc>,
        calendar: &WorkingCalendar,
    ) -> CaseDeadlines {
        let d = match urgency {
            Urgency::Normal => self.normal,
            Urgency::Urgent => self.urgent,
        };
        CaseDeadlines {
            // A normal case's contact waits for a working day, as the office does; an urgent one
            // runs on the clock, holiday or not.
            contact_due: match urgency {
                Urgency::Normal => calendar.working_time_after(submitted_at, d.contact_hours),
                Urgency::Urgent => submitted_at + Duration::hours(i64::from(d.contact_hours)),
            },
            resolution_due: calendar.resolution_deadline(submitted_at, d.resolution_days),
        }
    }

    /// Checks the answers to the extra questions (by question code; several values only for
    /// multiple choice). Returns them normalised, or every problem.
    pub fn check_answers(
        &self,
        answers: &BTreeMap<String, Vec<String>>,
    ) -> Result<BTreeMap<String, Vec<String>>, Vec<AnswerError>> {
        let mut problems = Vec::new();
        let mut out = BTreeMap::new();
        for code in answers.keys() {
            if !self.questions.iter().any(|q| &q.code == code) {
                problems.push(AnswerError {
                    question: code.clone(),
                    reason: AnswerReason::Unknown,
                });
            }
        }
        for q in &self.questions {
            let values: Vec<String> = answers
                .get(&q.code)
                .map(|v| {
                    v.iter()
                        .map(|s| s.trim().to_owned())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default();
            let bad = |reason| AnswerError {
                question: q.code.clone(),
                reason,
            };
            if values.is_empty() {
                if q.required {
                    problems.push(bad(AnswerReason::Required));
                }
                continue;
            }
            if values.len() > 1 && q.kind != QuestionKind::MultiChoice {
                problems.push(bad(AnswerReason::OneValue));
                continue;
            }
            let ok = values.iter().all(|v| match q.kind {
                QuestionKind::String => v.chars().count() <= 200,
                QuestionKind::Text => v.chars().count() <= MAX_TEXT_CHARS,
                QuestionKind::Number => v.parse::<f64>().is_ok_and(f64::is_finite),
                QuestionKind::Datetime => {
                    DateTime::parse_from_rfc3339(v).is_ok()
                        || chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M").is_ok()
                        || chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").is_ok()
                }
                QuestionKind::SingleChoice | QuestionKind::MultiChoice => {
                    q.choices.iter().any(|c| &c.key == v)
                }
            });
            if !ok {
                problems.push(bad(AnswerReason::Invalid));
                continue;
            }
            out.insert(q.code.clone(), values);
        }
        if problems.is_empty() {
            Ok(out)
        } else {
            Err(problems)
        }
    }
}

/// Why an answer to an extra question was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerReason {
    /// A required question has no answer.
    Required,
    /// Not a valid answer of the question's kind (or not one of its choices).
    Invalid,
    /// Several values for a question that takes one.
    OneValue,
    /// No such question in this category.
    Unknown,
}

impl AnswerReason {
    /// The stable code (also the message catalog key suffix).
    pub fn code(self) -> &'static str {
        match self {
            AnswerReason::Required => "required",
            AnswerReason::Invalid => "invalid",
            AnswerReason::OneValue => "one_value",
            AnswerReason::Unknown => "unknown",
        }
    }
}

/// A refused answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerError {
    /// The question's code.
    pub question: String,
    /// Why.
    pub reason: AnswerReason,
}

const NORMAL: Deadlines = Deadlines {
    contact_hours: 24,
    resolution_days: 5,
};
const URGENT: Deadlines = Deadlines {
    contact_hours: 2,
    resolution_days: 1,
};

fn q(
    code: &str,
    zh: &str,
    en: &str,
    kind: QuestionKind,
    required: bool,
    choices: &[(&str, &str)],
) -> Question {
    Question {
        code: code.into(),
        label_zh: zh.into(),
        label_en: en.into(),
        kind,
        required,
        choices: choices
            .iter()
            .map(|(k, n)| Choice {
                key: (*k).into(),
                name: (*n).into(),
            })
            .collect(),
    }
}

/// The catalogue a new installation starts with.
pub fn default_catalogue() -> Vec<Category> {
    use QuestionKind as K;
    let c = |code: &str,
             group: &str,
             zh: &str,
             en: &str,
             description: &str,
             department: &str,
             questions: Vec<Question>| Category {
        code: code.into(),
        group: group.into(),
        name_zh: zh.into(),
        name_en: en.into(),
        description: description.into(),
        department: department.into(),
        normal: NORMAL,
        urgent: URGENT,
        questions,
    };
    vec![
        c(
            "city_appearance",
            "城市管理",
            "市容环境",
            "City appearance",
            "垃圾清运、乱堆乱放、违章搭建、占道经营等",
            "城市管理办公室",
            vec![q(
                "location",
                "具体位置",
                "Exact place",
                K::String,
                true,
                &[],
            )],
        ),
        c(
            "noise",
            "城市管理",
            "噪音扰民",
            "Noise",
            "施工、商铺、娱乐场所、邻里噪音",
            "城市管理办公室",
            vec![
                q(
                    "source",
                    "噪音来源",
                    "Source",
                    K::SingleChoice,
                    true,
                    &[
                        ("construction", "施工"),
                        ("shop", "商铺"),
                        ("neighbour", "邻里"),
                        ("other", "其他"),
                    ],
                ),
                q("noticed_at", "发生时间", "When", K::Datetime, false, &[]),
            ],
        ),
        c(
            "roads",
            "城市管理",
            "道路交通",
            "Roads and traffic",
            "道路破损、井盖缺失、路灯、交通设施",
            "城市管理办公室",
            vec![q("road", "路段", "Road", K::String, true, &[])],
        ),
        c(
            "water",
            "公用事业",
            "供水",
            "Water supply",
            "停水、水压低、水质、管道漏水",
            "公用事业服务中心",
            vec![q(
                "estate",
                "小区/村名",
                "Estate or village",
                K::String,
                true,
                &[],
            )],
        ),
        c(
            "power",
            "公用事业",
            "供电",
            "Electricity",
            "停电、线路隐患",
            "公用事业服务中心",
            vec![],
        ),
        c(
            "heating",
            "公用事业",
            "供暖",
            "Heating",
            "不热、停暖、收费争议（供暖季）",
            "公用事业服务中心",
            vec![
                q("estate", "小区名称", "Estate", K::String, true, &[]),
                q(
                    "room_temp",
                    "室内温度（℃）",
                    "Room temperature (°C)",
                    K::Number,
                    false,
                    &[],
                ),
            ],
        ),
        c(
            "gas",
            "公用事业",
            "燃气",
            "Gas",
            "停气、燃气泄漏（紧急请先拨打抢修电话）",
            "公用事业服务中心",
            vec![],
        ),
        c(
            "property",
            "社区治理",
            "物业管理",
            "Property management",
            "物业服务、电梯、公共维修资金",
            "社区建设办公室",
            vec![q("estate", "小区名称", "Estate", K::String, true, &[])],
        ),
        c(
            "resettlement",
            "征收安置",
            "拆迁安置",
            "Demolition and resettlement",
            "补偿、安置房、选房、过渡费",
            "征收安置办公室",
            vec![q("project", "所属项目", "Project", K::String, false, &[])],
        ),
        c(
            "social_security",
            "民生保障",
            "社会保障",
            "Social security",
            "低保、养老、医保、残疾人、救助",
            "社会事务办公室",
            vec![],
        ),
        c(
            "health",
            "民生保障",
            "医疗卫生",
            "Health",
            "社区卫生、疫苗、环境卫生",
            "社会事务办公室",
            vec![],
        ),
        c(
            "education",
            "民生保障",
            "教育",
            "Education",
            "入学、学区、校园周边",
            "社会事务办公室",
            vec![],
        ),
        c(
            "agriculture",
            "农业农村",
            "农业农村",
            "Agriculture and villages",
            "土地承包、农田水利、村务",
            "农业农村办公室",
            vec![],
        ),
        c(
            "employment",
            "民生保障",
            "劳动就业",
            "Employment",
            "欠薪、就业服务、技能培训",
            "社会事务办公室",
            vec![q("employer", "用人单位", "Employer", K::String, false, &[])],
        ),
        c(
            "public_order",
            "平安建设",
            "治安",
            "Public order",
            "治安隐患、矛盾纠纷（紧急情况请拨打110）",
            "综合治理办公室",
            vec![],
        ),
        c(
            "straw_burning",
            "农业农村",
            "禁烧",
            "Straw burning",
            "秸秆、垃圾露天焚烧（夏秋禁烧）",
            "农业农村办公室",
            vec![q(
                "location",
                "具体位置",
                "Exact place",
                K::String,
                true,
                &[],
            )],
        ),
        c(
            "pest_control",
            "农业农村",
            "病虫害防治",
            "Pest control",
            "美国白蛾等病虫害防治",
            "农业农村办公室",
            vec![q(
                "pest",
                "虫害种类",
                "Pest",
                K::SingleChoice,
                false,
                &[("white_moth", "美国白蛾"), ("other", "其他")],
            )],
        ),
        c(
            "environment",
            "城市管理",
            "生态环境",
            "Environment",
            "污水、废气、扬尘",
            "城市管理办公室",
            vec![],
        ),
        c(
            "housing",
            "社区治理",
            "住房保障",
            "Housing",
            "公租房、危房改造",
            "社区建设办公室",
            vec![],
        ),
        c(
            "service_attitude",
            "作风建设",
            "干部作风",
            "Conduct of cadres",
            "服务态度、推诿扯皮、办事效率",
            "党政办公室",
            vec![],
        ),
        c(
            "other",
            "其他",
            "其他",
            "Other",
            "以上都不是",
            "党政办公室",
            vec![],
        ),
    ]
}

/// The code of [`objection_category`].
pub const OBJECTION_CATEGORY: &str = "notice_objection";

/// The category of objections (异议) to a 公示: filed from the notice, never offered on the intake
/// form (it is stored inactive), handled by the office that published.
pub fn objection_category() -> Category {
    Category {
        code: OBJECTION_CATEGORY.into(),
        group: "信息公开".into(),
        name_zh: "公示异议".into(),
        name_en: "Objection to a publication".into(),
        description: "对结果公示提出的异议，由公示页面提交".into(),
        department: "党政办公室".into(),
        normal: NORMAL,
        urgent: URGENT,
        questions: vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::end_of_day;
    use chrono::{NaiveDate, TimeZone};

    fn category(code: &str) -> Category {
        default_catalogue()
            .into_iter()
            .find(|c| c.code == code)
            .expect("category")
    }

    fn answers(pairs: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.iter().map(|s| (*s).to_owned()).collect()))
            .collect()
    }

    #[test]
    fn the_default_catalogue_is_complete_and_unique() {
        let cat = default_catalogue();
        assert!(cat.len() >= 20);
        let mut codes: Vec<_> = cat.iter().map(|c| c.code.as_str()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), cat.len());
        for name in [
            "市容环境",
            "噪音扰民",
            "道路交通",
            "供水",
            "供电",
            "供暖",
            "燃气",
            "物业管理",
            "拆迁安置",
            "社会保障",
            "医疗卫生",
            "教育",
            "农业农村",
            "劳动就业",
            "治安",
            "禁烧",
            "病虫害防治",
            "其他",
        ] {
            assert!(cat.iter().any(|c| c.name_zh == name), "{name}");
        }
        assert!(cat
            .iter()
            .all(|c| c.normal.resolution_days == 5 && c.urgent.contact_hours == 2));
    }

    #[test]
    fn definitions_are_checked() {
        assert!(default_catalogue().iter().all(|c| c.check().is_ok()));
        let mut c = category("noise");
        c.code = "Noise!".into();
        assert_eq!(c.check(), Err(CategoryError::Code));
        let mut c = category("noise");
        c.urgent.resolution_days = 0;
        assert_eq!(c.check(), Err(CategoryError::Deadline));
        let mut c = category("noise");
        c.questions[1].code = "source".into();
        assert_eq!(c.check(), Err(CategoryError::QuestionCode));
        let mut c = category("noise");
        c.questions[0].choices.clear();
        assert_eq!(c.check(), Err(CategoryError::NoChoices));
        let mut c = category("noise");
        c.name_en = " ".into();
        assert_eq!(c.check(), Err(CategoryError::Name));
    }

    #[test]
    fn answers_are_checked_by_kind() {
        let noise = category("noise");
        assert!(noise
            .check_answers(&answers(&[
                ("source", &["shop"]),
                ("noticed_at", &["2026-11-27T22:30"])
            ]))
            .is_ok());
        let errs = noise
            .check_answers(&answers(&[
                ("noticed_at", &["yesterday"]),
                ("colour", &["red"]),
            ]))
            .expect_err("bad");
        let reasons: Vec<_> = errs
            .iter()
            .map(|e| (e.question.as_str(), e.reason))
            .collect();
        assert!(reasons.contains(&("source", AnswerReason::Required)));
        assert!(reasons.contains(&("noticed_at", AnswerReason::Invalid)));
        assert!(reasons.contains(&("colour", AnswerReason::Unknown)));
        let errs = noise
            .check_answers(&answers(&[("source", &["shop", "neighbour"])]))
            .expect_err("one");
        assert_eq!(errs[0].reason, AnswerReason::OneValue);
        let errs = noise
            .check_answers(&answers(&[("source", &["aliens"])]))
            .expect_err("choice");
        assert_eq!(errs[0].reason, AnswerReason::Invalid);
        let heating = category("heating");
        assert!(heating
            .check_answers(&answers(&[
                ("estate", &["和园小区"]),
                ("room_temp", &["14.5"])
            ]))
            .is_ok());
        assert_eq!(
            heating
                .check_answers(&answers(&[("estate", &["和园"]), ("room_temp", &["warm"])]))
                .expect_err("num")[0]
                .reason,
            AnswerReason::Invalid
        );
        assert!(category("other").check_answers(&BTreeMap::new()).is_ok());
    }

    #[test]
    fn deadlines_follow_urgency_and_the_calendar() {
        let cal = WorkingCalendar::official();
        let submitted = crate::time::shanghai()
            .with_ymd_and_hms(2026, 9, 30, 10, 0, 0)
            .single()
            .expect("t")
            .with_timezone(&Utc);
        let noise = category("noise");
        let normal = noise.deadlines(Urgency::Normal, submitted, &cal);
        // The day before the National Day holiday: contact is due on the first working day after
        // it, at the same hour, not on a day off.
        assert_eq!(
            normal.contact_due,
            crate::time::shanghai()
                .with_ymd_and_hms(2026, 10, 8, 10, 0, 0)
                .single()
                .expect("t")
                .with_timezone(&Utc)
        );
        assert_eq!(
            normal.resolution_due,
            end_of_day(NaiveDate::from_ymd_opt(2026, 10, 13).expect("d"))
        );
        let urgent = noise.deadlines(Urgency::Urgent, submitted, &cal);
        assert_eq!(urgent.contact_due, submitted + Duration::hours(2));
        assert_eq!(
            urgent.resolution_due,
            end_of_day(NaiveDate::from_ymd_opt(2026, 10, 8).expect("d"))
        );
    }
}
