//! Consultations (征求意见): asking every household of a population before deciding. Owns the
//! question kinds, the plain-text form in which cadres write questions, the checks an answer
//! passes, the window, and the age bands answers are counted by.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Datelike, NaiveDate, Utc};

code_enum! {
    /// How a question is answered.
    QuestionKind {
        /// 单选: one option.
        Single = ("single", "单选"),
        /// 多选: several options, up to a maximum.
        Multiple = ("multiple", "多选"),
        /// 排序: options in order of preference.
        Ranking = ("ranking", "排序"),
        /// 填空: free text.
        Text = ("text", "填空"),
    }
}

code_enum! {
    /// How an answer was given.
    AnswerChannel {
        /// Online, by the household.
        Online = ("online", "网上"),
        /// Recorded by a cadre in person (入户).
        InPerson = ("in_person", "入户"),
        /// Recorded by a cadre at a meeting.
        Meeting = ("meeting", "会议"),
    }
}

/// The longest title.
pub const MAX_TITLE_CHARS: usize = 200;
/// The longest background text.
pub const MAX_BACKGROUND_CHARS: usize = 20_000;
/// The longest question or option text.
pub const MAX_PROMPT_CHARS: usize = 300;
/// The longest free-text answer.
pub const MAX_TEXT_ANSWER_CHARS: usize = 2_000;
/// Most questions in one consultation.
pub const MAX_QUESTIONS: usize = 50;
/// Most options of one question.
pub const MAX_OPTIONS: usize = 30;

/// A question as written, before it has ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuestionDraft {
    /// Kind.
    pub kind: QuestionKind,
    /// What is asked.
    pub prompt: String,
    /// The options (none for free text).
    pub options: Vec<String>,
    /// Most options a multiple-choice answer may pick.
    pub max_choices: Option<u32>,
    /// Whether every answer must include it (free text is optional unless marked `*`).
    pub required: bool,
}

/// Why questions, a consultation or an answer were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConsultationError {
    /// A line of the questions text is not understood.
    #[error("line {line}: {reason}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What is wrong (a message-catalog key).
        reason: &'static str,
    },
    /// A required field is empty.
    #[error("{field} is required")]
    Required {
        /// Which.
        field: &'static str,
    },
    /// A text is too long.
    #[error("{field} is longer than {max} characters")]
    TooLong {
        /// Which.
        field: &'static str,
        /// The limit.
        max: usize,
    },
    /// The close is not after the opening.
    #[error("the close must come after the opening")]
    CloseBeforeOpen,
    /// Not open now.
    #[error("answers are not taken now")]
    Closed,
    /// An answer names a question that does not exist.
    #[error("question {0} does not exist")]
    UnknownQuestion(i64),
    /// An answer names an option its question does not have.
    #[error("option {option} is not an option of question {question}")]
    UnknownOption {
        /// The question.
        question: i64,
        /// The option.
        option: i64,
    },
    /// An answer has the wrong shape for its question (a list for a single choice, …).
    #[error("question {0} is answered in the wrong form")]
    WrongForm(i64),
    /// More options than the question allows.
    #[error("question {question} allows at most {max} choices")]
    TooManyChoices {
        /// The question.
        question: i64,
        /// The maximum.
        max: u32,
    },
    /// The same option twice.
    #[error("question {0} names an option twice")]
    Repeated(i64),
    /// A required question is not answered.
    #[error("question {0} must be answered")]
    Unanswered(i64),
    /// The household is not in the population asked.
    #[error("the household is not asked in this consultation")]
    NotEligible,
}

impl ConsultationError {
    /// The message-catalog key that explains the error to a person.
    pub fn message_key(&self) -> &'static str {
        match self {
            ConsultationError::Line { reason, .. } => reason,
            ConsultationError::Required { .. } => "consultation.error.required",
            ConsultationError::TooLong { .. } => "consultation.error.too_long",
            ConsultationError::CloseBeforeOpen => "consultation.error.close_before_open",
            ConsultationError::Closed => "consultation.error.closed",
            ConsultationError::UnknownQuestion(_) => "consultation.error.unknown_question",
            ConsultationError::UnknownOption { .. } => "consultation.error.unknown_option",
            ConsultationError::WrongForm(_) => "consultation.error.wrong_form",
            ConsultationError::TooManyChoices { .. } => "consultation.error.too_many",
            ConsultationError::Repeated(_) => "consultation.error.repeated",
            ConsultationError::Unanswered(_) => "consultation.error.unanswered",
            ConsultationError::NotEligible => "consultation.error.not_eligible",
        }
    }
}

/// Checks a required text and its length; answers it trimmed.
pub fn checked_len(
    field: &'static str,
    text: &str,
    max: usize,
) -> Result<String, ConsultationError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ConsultationError::Required { field });
    }
    if text.chars().count() > max {
        return Err(ConsultationError::TooLong { field, max });
    }
    Ok(text.to_owned())
}

/// Reads questions written one block each: a heading line `单选：…`, `多选(2)：…`, `排序：…` or
/// `填空：…` (or the English codes `single:`, `multiple(2):`, `ranking:`, `text:`), optionally
/// starting with `*` for a free-text question that must be answered, followed for choices by one
/// option per line starting with `-`. Blank lines are ignored.
pub fn parse_questions(text: &str) -> Result<Vec<QuestionDraft>, ConsultationError> {
    let mut questions: Vec<QuestionDraft> = Vec::new();
    let err = |line, reason| ConsultationError::Line { line, reason };
    for (n, raw) in text.lines().enumerate() {
        let line_no = n + 1;
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(option) = line.strip_prefix('-').or_else(|| line.strip_prefix('－')) {
            let option = option.trim();
            let Some(q) = questions.last_mut() else {
                return Err(err(line_no, "consultation.error.option_first"));
            };
            if q.kind == QuestionKind::Text {
                return Err(err(line_no, "consultation.error.option_of_text"));
            }
            if option.is_empty() || option.chars().count() > MAX_PROMPT_CHARS {
                return Err(err(line_no, "consultation.error.option_text"));
            }
            if q.options.iter().any(|o| o == option) {
                return Err(err(line_no, "consultation.error.option_twice"));
            }
            if q.options.len() == MAX_OPTIONS {
                return Err(err(line_no, "consultation.error.too_many_options"));
            }
            q.options.push(option.to_owned());
            continue;
        }
        let (required, line) = match line.strip_prefix('*') {
            Some(rest) => (true, rest.trim_start()),
            None => (false, line),
        };
        let Some((head, prompt)) = line.split_once([':', '：']) else {
            return Err(err(line_no, "consultation.error.heading"));
        };
        let head = head.trim();
        let (word, max) = match head.split_once(['(', '（']) {
            Some((word, rest)) => {
                let number = rest.trim_end_matches([')', '）']).trim();
                let max: u32 = number
                    .parse()
                    .ok()
                    .filter(|m| *m >= 1)
                    .ok_or_else(|| err(line_no, "consultation.error.max"))?;
                (word.trim(), Some(max))
            }
            None => (head, None),
        };
        let kind =
            QuestionKind::parse(word).ok_or_else(|| err(line_no, "consultation.error.heading"))?;
        if max.is_some() && kind != QuestionKind::Multiple {
            return Err(err(line_no, "consultation.error.max"));
        }
        let prompt = prompt.trim();
        if prompt.is_empty() || prompt.chars().count() > MAX_PROMPT_CHARS {
            return Err(err(line_no, "consultation.error.prompt"));
        }
        if questions.len() == MAX_QUESTIONS {
            return Err(err(line_no, "consultation.error.too_many_questions"));
        }
        questions.push(QuestionDraft {
            kind,
            prompt: prompt.to_owned(),
            options: Vec::new(),
            max_choices: max,
            required: kind != QuestionKind::Text || required,
        });
    }
    if questions.is_empty() {
        return Err(ConsultationError::Required { field: "questions" });
    }
    for q in &mut questions {
        let least = if q.kind == QuestionKind::Text { 0 } else { 2 };
        if q.options.len() < least {
            let line = text
                .lines()
                .position(|l| l.contains(q.prompt.as_str()))
                .map_or(1, |p| p + 1);
            return Err(err(line, "consultation.error.few_options"));
        }
        if q.kind == QuestionKind::Multiple {
            let max = q.max_choices.unwrap_or(q.options.len() as u32);
            if max as usize > q.options.len() {
                let line = text
                    .lines()
                    .position(|l| l.contains(q.prompt.as_str()))
                    .map_or(1, |p| p + 1);
                return Err(err(line, "consultation.error.max"));
            }
            q.max_choices = Some(max);
        }
    }
    Ok(questions)
}

/// A stored question, with its id and its options' ids.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Question {
    /// Id.
    pub id: i64,
    /// Kind.
    pub kind: QuestionKind,
    /// What is asked.
    pub prompt: String,
    /// Options: id and text, in order.
    pub options: Vec<(i64, String)>,
    /// Most choices (multiple choice).
    pub max_choices: Option<u32>,
    /// Whether it must be answered.
    pub required: bool,
}

/// One answer to one question, as given.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(untagged)]
pub enum GivenAnswer {
    /// An option id (single choice).
    Option(i64),
    /// Option ids (multiple choice; ranking, most preferred first).
    Options(Vec<i64>),
    /// Free text.
    Text(String),
}

/// One checked answer item, as stored: the question and either an option (with its rank for a
/// ranking, 1 first) or a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerItem {
    /// Question id.
    pub question_id: i64,
    /// Option id.
    pub option_id: Option<i64>,
    /// Place in a ranking.
    pub rank: Option<u32>,
    /// Free text.
    pub text: Option<String>,
}

/// Checks a household's answers against the questions; answers them as items to store.
pub fn check_answers(
    questions: &[Question],
    given: &BTreeMap<i64, GivenAnswer>,
) -> Result<Vec<AnswerItem>, ConsultationError> {
    for qid in given.keys() {
        if !questions.iter().any(|q| q.id == *qid) {
            return Err(ConsultationError::UnknownQuestion(*qid));
        }
    }
    let mut items = Vec::new();
    for q in questions {
        let Some(answer) = given.get(&q.id) else {
            if q.required {
                return Err(ConsultationError::Unanswered(q.id));
            }
            continue;
        };
        let option = |id: i64| {
            if q.options.iter().any(|(o, _)| *o == id) {
                Ok(id)
            } else {
                Err(ConsultationError::UnknownOption {
                    question: q.id,
                    option: id,
                })
            }
        };
        match (q.kind, answer) {
            (QuestionKind::Single, GivenAnswer::Option(id)) => items.push(AnswerItem {
                question_id: q.id,
                option_id: Some(option(*id)?),
                rank: None,
                text: None,
            }),
            (QuestionKind::Multiple | QuestionKind::Ranking, GivenAnswer::Options(ids)) => {
                if ids.is_empty() {
                    if q.required {
                        return Err(ConsultationError::Unanswered(q.id));
                    }
                    continue;
                }
                let mut seen = HashSet::new();
                for id in ids {
                    option(*id)?;
                    if !seen.insert(*id) {
                        return Err(ConsultationError::Repeated(q.id));
                    }
                }
                if q.kind == QuestionKind::Multiple {
                    let max = q.max_choices.unwrap_or(u32::MAX);
                    if ids.len() > max as usize {
                        return Err(ConsultationError::TooManyChoices {
                            question: q.id,
                            max,
                        });
                    }
                }
                let ranked = q.kind == QuestionKind::Ranking;
                items.extend(ids.iter().enumerate().map(|(i, id)| AnswerItem {
                    question_id: q.id,
                    option_id: Some(*id),
                    rank: ranked.then_some(i as u32 + 1),
                    text: None,
                }));
            }
            (QuestionKind::Text, GivenAnswer::Text(t)) => {
                let t = t.trim();
                if t.is_empty() {
                    if q.required {
                        return Err(ConsultationError::Unanswered(q.id));
                    }
                    continue;
                }
                if t.chars().count() > MAX_TEXT_ANSWER_CHARS {
                    return Err(ConsultationError::TooLong {
                        field: "answer",
                        max: MAX_TEXT_ANSWER_CHARS,
                    });
                }
                items.push(AnswerItem {
                    question_id: q.id,
                    option_id: None,
                    rank: None,
                    text: Some(t.to_owned()),
                });
            }
            _ => return Err(ConsultationError::WrongForm(q.id)),
        }
    }
    Ok(items)
}

/// Whether answers are taken at `now`: from the opening, until (not at) the close.
pub fn answers_open(
    opens_at: DateTime<Utc>,
    closes_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), ConsultationError> {
    if now >= opens_at && now < closes_at {
        Ok(())
    } else {
        Err(ConsultationError::Closed)
    }
}

/// The age bands answers are counted by.
pub const AGE_BANDS: [&str; 5] = ["under_30", "30_44", "45_59", "60_74", "75_plus"];

/// A person's age band on a day, from their birth date.
pub fn age_band(birth: NaiveDate, on: NaiveDate) -> &'static str {
    let mut age = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    match age {
        ..=29 => AGE_BANDS[0],
        30..=44 => AGE_BANDS[1],
        45..=59 => AGE_BANDS[2],
        60..=74 => AGE_BANDS[3],
        _ => AGE_BANDS[4],
    }
}

/// Where a consultation's answering window stands at `now`: `upcoming`, `open` or `closed`.
pub fn window_state(
    opens_at: DateTime<Utc>,
    closes_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> &'static str {
    if now < opens_at {
        "upcoming"
    } else if now < closes_at {
        "open"
    } else {
        "closed"
    }
}

/// One counted answer: question, option, rank (rankings only), village, households.
pub type AnswerCount = (i64, i64, Option<i64>, i64, i64);

/// An option's tally (计票): households that chose it (for a ranking, that put it first), the
/// same per village in the order given, and for a ranking the mean place it was given.
#[derive(Debug, Clone, PartialEq)]
pub struct OptionTally {
    /// Households in all.
    pub total: i64,
    /// Households per village.
    pub by_village: Vec<i64>,
    /// A ranking's mean place (1 is first); `None` for other kinds or when nobody ranked it.
    pub mean_place: Option<f64>,
}

/// Tallies option `option` of `q` from the counts of every answer.
pub fn tally_option(
    q: &Question,
    option: i64,
    counts: &[AnswerCount],
    villages: &[i64],
) -> OptionTally {
    let ranking = q.kind == QuestionKind::Ranking;
    let rows: Vec<&AnswerCount> = counts
        .iter()
        .filter(|c| c.0 == q.id && c.1 == option)
        .collect();
    // A ranking counts the households that put the option first.
    let counted: Vec<&AnswerCount> = rows
        .iter()
        .copied()
        .filter(|row| !ranking || row.2 == Some(1))
        .collect();
    let (ranked, place_sum) = rows
        .iter()
        .fold((0, 0), |(n, s), c| (n + c.4, s + c.4 * c.2.unwrap_or(0)));
    OptionTally {
        total: counted.iter().map(|c| c.4).sum(),
        by_village: villages
            .iter()
            .map(|v| counted.iter().filter(|c| c.3 == *v).map(|c| c.4).sum())
            .collect(),
        mean_place: (ranking && ranked > 0).then(|| place_sum as f64 / ranked as f64),
    }
}

#[cfg(test)]
mod tally_tests {
    use super::*;

    fn question(kind: QuestionKind) -> Question {
        Question {
            id: 1,
            kind,
            prompt: "选址".into(),
            options: vec![(10, "东".into()), (11, "西".into())],
            max_choices: None,
            required: true,
        }
    }

    #[test]
    fn a_choice_counts_every_household_that_chose_it_per_village() {
        let counts = [
            (1, 10, None, 7, 3),
            (1, 10, None, 8, 2),
            (1, 11, None, 7, 5),
            (2, 10, None, 7, 9),
        ];
        let t = tally_option(&question(QuestionKind::Single), 10, &counts, &[7, 8, 9]);
        assert_eq!(
            t,
            OptionTally {
                total: 5,
                by_village: vec![3, 2, 0],
                mean_place: None
            }
        );
    }

    #[test]
    fn a_ranking_counts_first_places_and_gives_the_mean_place() {
        let counts = [
            (1, 10, Some(1), 7, 3),
            (1, 10, Some(2), 7, 1),
            (1, 10, Some(2), 8, 4),
        ];
        let t = tally_option(&question(QuestionKind::Ranking), 10, &counts, &[7, 8]);
        assert_eq!(t.total, 3);
        assert_eq!(t.by_village, vec![3, 0]);
        assert_eq!(t.mean_place, Some((3.0 + 2.0 + 8.0) / 8.0));
        assert_eq!(
            tally_option(&question(QuestionKind::Ranking), 11, &counts, &[7]).mean_place,
            None
        );
    }
}

#[cfg(test)]
mod window_tests {
    use super::*;

    #[test]
    fn the_window_opens_at_its_start_and_closes_at_its_end() {
        let t = |h| chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 5, 1, h, 0, 0).unwrap();
        assert_eq!(window_state(t(8), t(18), t(7)), "upcoming");
        assert_eq!(window_state(t(8), t(18), t(8)), "open");
        assert_eq!(window_state(t(8), t(18), t(18)), "closed");
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]

    use super::*;

    const SITE: &str = "单选：安置区选址您倾向哪里？\n- 东坞村北\n- 西坪村东\n\n多选(2)：您需要的户型面积？\n- 90平方米\n- 120平方米\n- 140平方米\n排序：请按优先顺序排列配套设施\n- 学校\n- 医院\n- 市场\n填空：其他意见\n*填空：联系人姓名";

    #[test]
    fn questions_are_read_from_their_plain_text() {
        let q = parse_questions(SITE).unwrap();
        assert_eq!(q.len(), 5);
        assert_eq!(q[0].kind, QuestionKind::Single);
        assert_eq!(q[0].options, vec!["东坞村北", "西坪村东"]);
        assert_eq!(
            (q[1].kind, q[1].max_choices),
            (QuestionKind::Multiple, Some(2))
        );
        assert_eq!(q[2].kind, QuestionKind::Ranking);
        assert_eq!((q[3].kind, q[3].required), (QuestionKind::Text, false));
        assert!(
            q[4].required,
            "a starred free-text question must be answered"
        );
        let english = parse_questions("multiple: Which?\n- a\n- b\n- c").unwrap();
        assert_eq!(english[0].max_choices, Some(3), "no maximum: all options");
    }

    #[test]
    fn bad_question_texts_name_their_line() {
        let line = |text: &str| match parse_questions(text) {
            Err(ConsultationError::Line { line, reason }) => (line, reason),
            other => panic!("{other:?}"),
        };
        assert_eq!(line("- 选项在前"), (1, "consultation.error.option_first"));
        assert_eq!(
            line("单选：问\n- 甲\n问题没有类型"),
            (3, "consultation.error.heading")
        );
        assert_eq!(line("投票：问\n- 甲"), (1, "consultation.error.heading"));
        assert_eq!(
            line("单选：问\n- 甲\n- 甲"),
            (3, "consultation.error.option_twice")
        );
        assert_eq!(
            line("填空：问\n- 甲"),
            (2, "consultation.error.option_of_text")
        );
        assert_eq!(
            line("单选：只有一个选项\n- 甲"),
            (1, "consultation.error.few_options")
        );
        assert_eq!(
            line("多选(4)：问\n- 甲\n- 乙"),
            (1, "consultation.error.max")
        );
        assert_eq!(
            line("单选(2)：问\n- 甲\n- 乙"),
            (1, "consultation.error.max")
        );
        assert_eq!(
            line("多选(x)：问\n- 甲\n- 乙"),
            (1, "consultation.error.max")
        );
        assert_eq!(line("单选：\n- 甲\n- 乙"), (1, "consultation.error.prompt"));
        assert_eq!(
            parse_questions("\n \n"),
            Err(ConsultationError::Required { field: "questions" })
        );
    }

    fn stored() -> Vec<Question> {
        vec![
            Question {
                id: 10,
                kind: QuestionKind::Single,
                prompt: "选址".into(),
                options: vec![(1, "北".into()), (2, "东".into())],
                max_choices: None,
                required: true,
            },
            Question {
                id: 11,
                kind: QuestionKind::Multiple,
                prompt: "户型".into(),
                options: vec![(3, "90".into()), (4, "120".into()), (5, "140".into())],
                max_choices: Some(2),
                required: true,
            },
            Question {
                id: 12,
                kind: QuestionKind::Ranking,
                prompt: "配套".into(),
                options: vec![(6, "学校".into()), (7, "医院".into())],
                max_choices: None,
                required: true,
            },
            Question {
                id: 13,
                kind: QuestionKind::Text,
                prompt: "意见".into(),
                options: vec![],
                max_choices: None,
                required: false,
            },
        ]
    }

    fn given(pairs: &[(i64, GivenAnswer)]) -> BTreeMap<i64, GivenAnswer> {
        pairs.iter().cloned().collect()
    }

    #[test]
    fn answers_are_checked_against_their_questions() {
        use GivenAnswer::*;
        let ok = given(&[
            (10, Option(2)),
            (11, Options(vec![3, 5])),
            (12, Options(vec![7, 6])),
            (13, Text(" 尽快 ".into())),
        ]);
        let items = check_answers(&stored(), &ok).unwrap();
        assert_eq!(items.len(), 6);
        assert_eq!(
            items[3],
            AnswerItem {
                question_id: 12,
                option_id: Some(7),
                rank: Some(1),
                text: None
            }
        );
        assert_eq!(items[5].text.as_deref(), Some("尽快"));
        let without_text = given(&[
            (10, Option(1)),
            (11, Options(vec![4])),
            (12, Options(vec![6])),
        ]);
        assert_eq!(check_answers(&stored(), &without_text).unwrap().len(), 3);

        let refused =
            |pairs: &[(i64, GivenAnswer)]| check_answers(&stored(), &given(pairs)).unwrap_err();
        let base = [(11, Options(vec![3])), (12, Options(vec![6]))];
        let with = |extra: (i64, GivenAnswer)| {
            let mut v = base.to_vec();
            v.push(extra);
            v
        };
        assert_eq!(
            refused(&with((10, Option(9)))),
            ConsultationError::UnknownOption {
                question: 10,
                option: 9
            }
        );
        assert_eq!(
            refused(&with((10, Options(vec![1])))),
            ConsultationError::WrongForm(10)
        );
        assert_eq!(
            refused(&with((99, Option(1)))),
            ConsultationError::UnknownQuestion(99)
        );
        assert_eq!(refused(&base), ConsultationError::Unanswered(10));
        assert_eq!(
            refused(&[
                (10, Option(1)),
                (11, Options(vec![3, 4, 5])),
                (12, Options(vec![6]))
            ]),
            ConsultationError::TooManyChoices {
                question: 11,
                max: 2
            }
        );
        assert_eq!(
            refused(&[
                (10, Option(1)),
                (11, Options(vec![3, 3])),
                (12, Options(vec![6]))
            ]),
            ConsultationError::Repeated(11)
        );
        assert_eq!(
            refused(&[
                (10, Option(1)),
                (11, Options(vec![3])),
                (12, Options(vec![6])),
                (13, Text("长".repeat(2001)))
            ]),
            ConsultationError::TooLong {
                field: "answer",
                max: MAX_TEXT_ANSWER_CHARS
            }
        );
    }

    #[test]
    fn the_window_and_the_age_bands() {
        let t = |h: i64| DateTime::<Utc>::from_timestamp(h * 3600, 0).unwrap();
        assert_eq!(
            answers_open(t(10), t(20), t(9)),
            Err(ConsultationError::Closed)
        );
        assert_eq!(answers_open(t(10), t(20), t(10)), Ok(()));
        assert_eq!(
            answers_open(t(10), t(20), t(20)),
            Err(ConsultationError::Closed)
        );
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(age_band(d(1996, 11, 28), d(2026, 11, 27)), "under_30");
        assert_eq!(age_band(d(1996, 11, 27), d(2026, 11, 27)), "30_44");
        assert_eq!(age_band(d(1966, 1, 1), d(2026, 11, 27)), "60_74");
        assert_eq!(age_band(d(1940, 1, 1), d(2026, 11, 27)), "75_plus");
    }
}
