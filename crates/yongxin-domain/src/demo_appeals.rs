//! A year of demo appeals (诉求) for the demo subdistrict: seasonal categories, replies, ratings,
//! some overdue, some reopened. Pure: the same seed, households and anchor day give the same
//! appeals; each case's history is a list of actions the lifecycle replays.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::appeal::{AppealAction, Rating, Urgency};
use crate::time::shanghai;

/// A generated appeal: who, what, when, and what happened to it afterwards.
#[derive(Debug, Clone)]
pub struct DemoAppeal {
    /// Index of the household in the demo subdistrict.
    pub household: usize,
    /// Category code.
    pub category: &'static str,
    /// Urgency.
    pub urgency: Urgency,
    /// Submitted.
    pub created_at: DateTime<Utc>,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Answers to the category's required questions.
    pub answers: BTreeMap<String, Vec<String>>,
    /// What was done, in order, with when.
    pub steps: Vec<(DateTime<Utc>, DemoActor, AppealAction)>,
}

/// Who takes a demo step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoActor {
    /// The dispatching department staff.
    Staff,
    /// The grid's cadre.
    GridCadre,
    /// The resident who filed it.
    Resident,
    /// The server itself (closing answers nobody rated).
    System,
}

/// The department an assignment names until the loader puts the category's department and the
/// household's grid cadre in its place.
pub const ASSIGN_TO_GRID: &str = "grid";

struct Kind {
    code: &'static str,
    weight: f64,
    months: &'static [u32],
    titles: &'static [&'static str],
    answers: &'static [(&'static str, &'static str)],
}

const KINDS: &[Kind] = &[
    Kind {
        code: "heating",
        weight: 10.0,
        months: &[11, 12, 1, 2, 3],
        titles: &[
            "暖气不热",
            "家中暖气温度不达标",
            "供暖季停暖",
            "暖气管道漏水",
        ],
        answers: &[("estate", "和园小区")],
    },
    Kind {
        code: "straw_burning",
        weight: 6.0,
        months: &[6, 7, 9, 10],
        titles: &["田间焚烧秸秆", "有人露天焚烧垃圾", "麦收后焚烧麦茬"],
        answers: &[("location", "村东麦田")],
    },
    Kind {
        code: "pest_control",
        weight: 4.0,
        months: &[5, 6, 7, 8, 9],
        titles: &["树上发现美国白蛾网幕", "行道树虫害严重"],
        answers: &[],
    },
    Kind {
        code: "noise",
        weight: 5.0,
        months: &[],
        titles: &["夜间施工噪音扰民", "楼下商铺音响太吵", "广场舞噪音"],
        answers: &[("source", "construction")],
    },
    Kind {
        code: "water",
        weight: 4.0,
        months: &[],
        titles: &["停水", "自来水水压低", "水管漏水"],
        answers: &[("estate", "东坞村")],
    },
    Kind {
        code: "roads",
        weight: 4.0,
        months: &[],
        titles: &["路灯不亮", "井盖缺失", "道路坑洼积水"],
        answers: &[("road", "前街")],
    },
    Kind {
        code: "city_appearance",
        weight: 5.0,
        months: &[],
        titles: &["垃圾清运不及时", "占道经营", "楼道乱堆杂物"],
        answers: &[("location", "前街路口")],
    },
    Kind {
        code: "property",
        weight: 3.0,
        months: &[],
        titles: &["电梯经常故障", "物业不作为", "小区绿化无人维护"],
        answers: &[("estate", "春晖苑")],
    },
    Kind {
        code: "resettlement",
        weight: 4.0,
        months: &[],
        titles: &[
            "安置房交付时间",
            "过渡费发放",
            "补偿标准咨询",
            "选房顺序问题",
        ],
        answers: &[],
    },
    Kind {
        code: "social_security",
        weight: 3.0,
        months: &[],
        titles: &["低保申请进度", "养老保险缴费", "残疾人补贴"],
        answers: &[],
    },
    Kind {
        code: "power",
        weight: 2.0,
        months: &[],
        titles: &["频繁停电", "电线私拉乱接"],
        answers: &[],
    },
    Kind {
        code: "gas",
        weight: 1.0,
        months: &[],
        titles: &["燃气开通", "燃气表故障"],
        answers: &[],
    },
    Kind {
        code: "health",
        weight: 1.5,
        months: &[],
        titles: &["社区卫生室开放时间", "疫苗接种预约"],
        answers: &[],
    },
    Kind {
        code: "education",
        weight: 1.5,
        months: &[6, 7, 8],
        titles: &["入学报名", "校车接送"],
        answers: &[],
    },
    Kind {
        code: "agriculture",
        weight: 2.0,
        months: &[],
        titles: &["土地承包纠纷", "农田灌溉用水"],
        answers: &[],
    },
    Kind {
        code: "employment",
        weight: 1.5,
        months: &[1, 12],
        titles: &["工地拖欠工资", "就业培训报名"],
        answers: &[],
    },
    Kind {
        code: "public_order",
        weight: 1.5,
        months: &[],
        titles: &["邻里纠纷", "可疑人员出没"],
        answers: &[],
    },
    Kind {
        code: "environment",
        weight: 1.5,
        months: &[],
        titles: &["工地扬尘", "污水直排"],
        answers: &[],
    },
    Kind {
        code: "service_attitude",
        weight: 0.5,
        months: &[],
        titles: &["办事窗口态度差"],
        answers: &[],
    },
    Kind {
        code: "other",
        weight: 1.0,
        months: &[],
        titles: &["建议增设公交站", "咨询政策"],
        answers: &[],
    },
];

const REPLIES: &[&str] = &[
    "经现场核实，已协调相关单位处理完毕。",
    "已联系责任单位整改，问题已解决，欢迎继续监督。",
    "已安排工作人员上门处理，并向您说明了有关政策。",
    "经调查，已依法依规处理，后续将加强巡查。",
];

fn weight_in(kind: &Kind, month: u32) -> f64 {
    if kind.months.is_empty() {
        kind.weight
    } else if kind.months.contains(&month) {
        kind.weight * 3.0
    } else {
        kind.weight * 0.05
    }
}

fn at_local(day: NaiveDate, minute_of_day: i64) -> DateTime<Utc> {
    let midnight = shanghai()
        .from_local_datetime(&day.and_hms_opt(0, 0, 0).unwrap_or_default())
        .single();
    midnight
        .map(|m| m.with_timezone(&Utc) + Duration::minutes(minute_of_day))
        .unwrap_or_default()
}

/// `count` appeals over the 365 days before `until` (a Shanghai date), from `households`
/// households. Older cases are mostly closed; the last weeks leave cases at every stage, some past
/// their deadlines; about one in ten dissatisfied ratings reopens a case.
pub fn generate_appeals(
    seed: u64,
    households: usize,
    until: NaiveDate,
    count: usize,
) -> Vec<DemoAppeal> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_a99e);
    let mut out = Vec::with_capacity(count);
    if households == 0 {
        return out;
    }
    let start = until - Duration::days(365);
    for _ in 0..count {
        let day = start + Duration::days(rng.gen_range(0..365));
        let weights: Vec<f64> = KINDS.iter().map(|k| weight_in(k, day.month())).collect();
        let total: f64 = weights.iter().sum();
        let mut pick = rng.gen::<f64>() * total;
        let mut kind = &KINDS[0];
        for (k, w) in KINDS.iter().zip(&weights) {
            if pick < *w {
                kind = k;
                break;
            }
            pick -= w;
        }
        let created_at = at_local(day, rng.gen_range(7 * 60..22 * 60));
        let title = kind.titles.choose(&mut rng).copied().unwrap_or("咨询");
        let age_days = (until - day).num_days();
        let urgency = if rng.gen_bool(0.05) {
            Urgency::Urgent
        } else {
            Urgency::Normal
        };
        let mut steps = Vec::new();
        let mut t = created_at + Duration::minutes(rng.gen_range(10..240));
        let mut push = |t: &mut DateTime<Utc>,
                        who,
                        action,
                        later: std::ops::Range<i64>,
                        rng: &mut ChaCha8Rng| {
            steps.push((*t, who, action));
            *t += Duration::minutes(rng.gen_range(later));
        };
        // How far the case has come depends on its age; recent ones are still moving.
        let progress = if age_days > 30 {
            9
        } else {
            rng.gen_range(0..10)
        };
        let late = rng.gen_bool(0.08);
        if progress >= 1 {
            if rng.gen_bool(0.02) {
                push(
                    &mut t,
                    DemoActor::Staff,
                    AppealAction::Decline {
                        reason: "不属于本街道受理范围，已告知向相关部门反映。".into(),
                    },
                    30..120,
                    &mut rng,
                );
            } else {
                push(
                    &mut t,
                    DemoActor::Staff,
                    AppealAction::Accept,
                    10..120,
                    &mut rng,
                );
                if progress >= 2 {
                    push(
                        &mut t,
                        DemoActor::Staff,
                        AppealAction::Assign {
                            department: Some(ASSIGN_TO_GRID.into()),
                            cadre: None,
                        },
                        if late { 1500..3000 } else { 30..600 },
                        &mut rng,
                    );
                }
                if progress >= 3 {
                    push(
                        &mut t,
                        DemoActor::GridCadre,
                        AppealAction::Contact,
                        60..1440,
                        &mut rng,
                    );
                }
                if progress >= 5 {
                    push(
                        &mut t,
                        DemoActor::GridCadre,
                        AppealAction::Note {
                            text: "已到现场查看，正在协调处理。".into(),
                            visible: true,
                        },
                        if late { 6000..12000 } else { 300..3000 },
                        &mut rng,
                    );
                }
                if progress >= 6 {
                    let reply = REPLIES.choose(&mut rng).copied().unwrap_or(REPLIES[0]);
                    push(
                        &mut t,
                        DemoActor::GridCadre,
                        AppealAction::Answer {
                            reply: reply.into(),
                        },
                        600..4000,
                        &mut rng,
                    );
                }
                // As in a real office, not every answer is rated: about a third close unrated
                // (and count as not rated); of the rest, the resident rates on /track or the
                // office calls them back (回访), and a fifth are not satisfied at first.
                let rated = progress >= 8 && rng.gen_bool(0.66);
                if progress >= 8 && !rated {
                    // Unrated for a week: the server closes it (自动办结), counted as not rated.
                    t += Duration::days(7);
                    push(
                        &mut t,
                        DemoActor::System,
                        AppealAction::AutoClose,
                        1..2,
                        &mut rng,
                    );
                }
                if rated {
                    let rating = |rng: &mut ChaCha8Rng, satisfied: f64, basically: f64| {
                        let r: f64 = rng.gen();
                        if r < satisfied {
                            Rating::Satisfied
                        } else if r < basically {
                            Rating::BasicallySatisfied
                        } else {
                            Rating::Dissatisfied
                        }
                    };
                    let rate = |rating, t: DateTime<Utc>, by_call: bool| {
                        if by_call {
                            (
                                DemoActor::Staff,
                                AppealAction::RateByCall {
                                    rating,
                                    reason: None,
                                    called_at: t,
                                },
                            )
                        } else {
                            (
                                DemoActor::Resident,
                                AppealAction::Rate {
                                    rating,
                                    reason: None,
                                },
                            )
                        }
                    };
                    let first = rating(&mut rng, 0.55, 0.78);
                    let (who, action) = rate(first, t, rng.gen_bool(0.5));
                    push(&mut t, who, action, 600..3000, &mut rng);
                    if first == Rating::Dissatisfied && progress >= 9 {
                        push(
                            &mut t,
                            DemoActor::GridCadre,
                            AppealAction::Answer {
                                reply: "已再次上门处理，问题彻底解决。".into(),
                            },
                            600..3000,
                            &mut rng,
                        );
                        let again = rating(&mut rng, 0.2, 0.55);
                        let (who, action) = rate(again, t, rng.gen_bool(0.5));
                        push(&mut t, who, action, 60..600, &mut rng);
                    }
                }
            }
        }
        let now_limit = at_local(until, 0);
        steps.retain(|(at, _, _)| *at < now_limit);
        let answers = kind
            .answers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), vec![(*v).to_owned()]))
            .collect();
        out.push(DemoAppeal {
            household: rng.gen_range(0..households),
            category: kind.code,
            urgency,
            created_at,
            title: title.to_owned(),
            description: format!("{title}，请尽快处理。"),
            answers,
            steps,
        });
    }
    out.sort_by_key(|a| a.created_at);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::appeal::{AppealPolicy, AppealState, AppealStatus};

    fn until() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 27).expect("date")
    }

    #[test]
    fn every_history_is_one_the_lifecycle_allows() {
        let appeals = generate_appeals(1, 500, until(), 3000);
        assert_eq!(appeals.len(), 3000);
        let policy = AppealPolicy::default();
        let mut statuses = BTreeMap::new();
        for a in &appeals {
            let mut state = AppealState::new();
            let mut last = a.created_at;
            for (at, _, action) in &a.steps {
                assert!(*at > last, "steps move forward in time");
                last = *at;
                let t = state.apply(1, action, &policy).expect("allowed");
                state.status = t.to;
                if t.reopened {
                    state.reopen_count += 1;
                }
            }
            *statuses.entry(state.status.code()).or_insert(0) += 1;
        }
        assert!(statuses["closed"] > 2000, "{statuses:?}");
        // The ratings look like a real office's: a third of the answers never rated, and a
        // satisfaction rate well below 100 %.
        let answered = appeals
            .iter()
            .filter(|a| {
                a.steps
                    .iter()
                    .any(|(_, _, s)| matches!(s, AppealAction::Answer { .. }))
            })
            .count() as f64;
        let last_ratings: Vec<Rating> = appeals
            .iter()
            .filter_map(|a| {
                a.steps.iter().rev().find_map(|(_, _, s)| match s {
                    AppealAction::Rate { rating, .. } | AppealAction::RateByCall { rating, .. } => {
                        Some(*rating)
                    }
                    _ => None,
                })
            })
            .collect();
        let coverage = last_ratings.len() as f64 / answered;
        let satisfied = last_ratings.iter().filter(|r| r.is_satisfied()).count() as f64
            / last_ratings.len() as f64;
        assert!((0.5..0.8).contains(&coverage), "coverage {coverage}");
        assert!(
            (0.75..0.95).contains(&satisfied),
            "satisfaction {satisfied}"
        );
        assert!(appeals.iter().any(|a| a
            .steps
            .iter()
            .any(|(_, who, s)| *who == DemoActor::Staff
                && matches!(s, AppealAction::RateByCall { .. }))));
        for open in [
            AppealStatus::Submitted,
            AppealStatus::Assigned,
            AppealStatus::Answered,
        ] {
            assert!(
                statuses.get(open.code()).copied().unwrap_or(0) > 0,
                "{statuses:?}"
            );
        }
    }

    #[test]
    fn seasons_show_and_the_seed_decides() {
        let appeals = generate_appeals(2, 500, until(), 20_000);
        let month_share = |code: &str, months: &[u32]| {
            let all = appeals.iter().filter(|a| a.category == code).count() as f64;
            let inside = appeals
                .iter()
                .filter(|a| {
                    a.category == code
                        && months.contains(&a.created_at.with_timezone(&shanghai()).month())
                })
                .count() as f64;
            inside / all
        };
        assert!(month_share("heating", &[11, 12, 1, 2, 3]) > 0.9);
        assert!(month_share("straw_burning", &[6, 7, 9, 10]) > 0.9);
        let again = generate_appeals(2, 500, until(), 100);
        let first = generate_appeals(2, 500, until(), 100);
        assert_eq!(
            again.iter().map(|a| a.created_at).collect::<Vec<_>>(),
            first.iter().map(|a| a.created_at).collect::<Vec<_>>()
        );
        assert!(appeals.iter().all(|a| a.created_at < at_local(until(), 0)));
    }
}
