//! The answer form of a consultation's questions, shared by the consultation's page and a
//! campaign's visit form (a campaign's form is a consultation): the questions as a form shows
//! them, and the form's fields read back as answers.

use std::collections::BTreeMap;

use yongxin_domain::consultation::{GivenAnswer, Question, QuestionKind};
use yongxin_store::Consultation;

use crate::http::error::AppError;
use crate::http::i18n::Catalog;

/// A question as the answer form shows it.
pub(crate) struct QuestionView {
    pub(crate) q: Question,
    pub(crate) kind: String,
    pub(crate) hint: String,
    /// Options with whether the current answer picked them, and their rank in it.
    pub(crate) options: Vec<(i64, String, bool, Option<usize>)>,
    pub(crate) text: String,
}

impl QuestionView {
    pub(crate) fn place_selected(&self, rank: &Option<usize>, place: usize) -> bool {
        *rank == Some(place)
    }
}

pub(crate) fn question_views(
    c: &Catalog,
    k: &Consultation,
    current: Option<&BTreeMap<i64, GivenAnswer>>,
) -> Vec<QuestionView> {
    k.questions
        .iter()
        .map(|q| {
            let given = current.and_then(|g| g.get(&q.id));
            let picked = |o: i64| match given {
                Some(GivenAnswer::Option(x)) => (*x == o, None),
                Some(GivenAnswer::Options(list)) => (
                    list.contains(&o),
                    list.iter().position(|x| *x == o).map(|p| p + 1),
                ),
                _ => (false, None),
            };
            QuestionView {
                kind: c
                    .t(&format!("consultation.kind.{}", q.kind.code()))
                    .to_owned(),
                hint: match q.kind {
                    QuestionKind::Multiple => c.format(
                        "consultation.hint_multiple",
                        &[("max", q.max_choices.unwrap_or(0).to_string())],
                    ),
                    QuestionKind::Ranking => c.t("consultation.hint_ranking").to_owned(),
                    _ => String::new(),
                },
                options: q
                    .options
                    .iter()
                    .map(|(id, label)| {
                        let (p, rank) = picked(*id);
                        (*id, label.clone(), p, rank)
                    })
                    .collect(),
                text: match given {
                    Some(GivenAnswer::Text(t)) => t.clone(),
                    _ => String::new(),
                },
                q: q.clone(),
            }
        })
        .collect()
}

/// Reads a form's answers: `q{id}` for a single choice, repeated for multiple choices, free text;
/// `r{question}_{option}` = place for a ranking.
pub(crate) fn answers_from_form(
    k: &Consultation,
    form: &QuestionFields,
) -> Result<BTreeMap<i64, GivenAnswer>, AppError> {
    let mut given = BTreeMap::new();
    for q in &k.questions {
        let name = format!("q{}", q.id);
        let values: Vec<&str> = form
            .answers
            .get(&q.id)
            .into_iter()
            .flatten()
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .collect();
        let id = |v: &str| v.parse::<i64>().map_err(|_| AppError::invalid_param(&name));
        match q.kind {
            QuestionKind::Single => {
                if let Some(v) = values.first() {
                    given.insert(q.id, GivenAnswer::Option(id(v)?));
                }
            }
            QuestionKind::Multiple => {
                given.insert(
                    q.id,
                    GivenAnswer::Options(values.iter().map(|v| id(v)).collect::<Result<_, _>>()?),
                );
            }
            QuestionKind::Text => {
                if let Some(v) = values.first() {
                    given.insert(q.id, GivenAnswer::Text((*v).to_owned()));
                }
            }
            QuestionKind::Ranking => {
                let mut ranked: Vec<(u32, i64)> = Vec::new();
                for (oid, _) in &q.options {
                    let field = format!("r{}_{oid}", q.id);
                    if let Some(v) = form
                        .places
                        .get(&(q.id, *oid))
                        .filter(|v| !v.trim().is_empty())
                    {
                        let place: u32 = v
                            .trim()
                            .parse()
                            .map_err(|_| AppError::invalid_param(&field))?;
                        ranked.push((place, *oid));
                    }
                }
                ranked.sort_unstable();
                given.insert(
                    q.id,
                    GivenAnswer::Options(ranked.into_iter().map(|(_, o)| o).collect()),
                );
            }
        }
    }
    Ok(given)
}

/// The fields a consultation's questions give its page: `q{question}` holds the options picked
/// (repeated for several) or the text typed; `r{question}_{option}` the place given to an option
/// of a ranking.
#[derive(Debug, Default)]
pub(crate) struct QuestionFields {
    answers: BTreeMap<i64, Vec<String>>,
    places: BTreeMap<(i64, i64), String>,
}

impl<'de> serde::Deserialize<'de> for QuestionFields {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut fields = Self::default();
        crate::http::extract::data_named_fields(d, |name, values| {
            if let Some(q) = name.strip_prefix('q').and_then(|q| q.parse().ok()) {
                fields.answers.insert(q, values);
            } else if let Some((q, o)) = name.strip_prefix('r').and_then(|r| r.split_once('_')) {
                if let (Ok(q), Ok(o), Some(v)) = (q.parse(), o.parse(), values.into_iter().next()) {
                    fields.places.insert((q, o), v);
                }
            }
        })?;
        Ok(fields)
    }
}
