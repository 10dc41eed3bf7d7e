//! 拆迁安置: a resettlement project's phases, its policy as data and the entitlement arithmetic.
//! The lottery that orders house selection is [`crate::lottery`].

pub mod entitlement;
pub mod policy;

code_enum! {
    /// 项目阶段: where a resettlement project stands. Phases only move forward, one at a time.
    Phase {
        /// 筹备: no policy published yet.
        Preparation = ("preparation", "筹备"),
        /// 政策公布
        PolicyPublished = ("policy_published", "政策公布"),
        /// 选房登记
        Registration = ("registration", "选房登记"),
        /// 入户评估
        Assessment = ("assessment", "入户评估"),
        /// 结果公示
        ResultsPublication = ("results_publication", "结果公示"),
        /// 摇号
        Lottery = ("lottery", "摇号"),
        /// 选房
        Selection = ("selection", "选房"),
        /// 签约
        Agreements = ("agreements", "签约"),
        /// 交房
        Handover = ("handover", "交房"),
    }
}

/// Why a project cannot do something in its phase.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhaseError {
    /// Phases move forward one at a time.
    #[error("项目处于“{from}”阶段，只能进入下一阶段“{next}”")]
    NotNext {
        /// Current phase (zh).
        from: &'static str,
        /// The next one (zh).
        next: &'static str,
    },
    /// The last phase.
    #[error("项目已处于最后阶段")]
    Last,
    /// An action the phase does not allow.
    #[error("项目处于“{phase}”阶段，{what}")]
    NotAllowed {
        /// Current phase (zh).
        phase: &'static str,
        /// What is refused, in words.
        what: &'static str,
    },
}

impl Phase {
    /// The phase after this one.
    pub fn next(self) -> Option<Phase> {
        let i = Phase::ALL.iter().position(|p| *p == self)?;
        Phase::ALL.get(i + 1).copied()
    }

    /// Checks a move to `to`: only the next phase.
    pub fn check_move(self, to: Phase) -> Result<(), PhaseError> {
        match self.next() {
            None => Err(PhaseError::Last),
            Some(n) if n == to => Ok(()),
            Some(n) => Err(PhaseError::NotNext {
                from: self.zh(),
                next: n.zh(),
            }),
        }
    }

    /// Whether households may register (选房登记) — from the registration phase until the
    /// lottery list is frozen (`frozen` is checked by the caller's write).
    pub fn check_registration(self, frozen: bool) -> Result<(), PhaseError> {
        let open =
            self.rank() >= Phase::Registration.rank() && self.rank() <= Phase::Lottery.rank();
        if !open {
            return Err(PhaseError::NotAllowed {
                phase: self.zh(),
                what: "不接受选房登记",
            });
        }
        if frozen {
            return Err(PhaseError::NotAllowed {
                phase: self.zh(),
                what: "摇号名单已冻结，不再接受选房登记",
            });
        }
        Ok(())
    }

    /// Whether an assessment may be changed: freely until the results are published; after that
    /// only as a recorded correction with a reason.
    pub fn check_assessment(self, correction_reason: Option<&str>) -> Result<(), PhaseError> {
        if self == Phase::Preparation {
            return Err(PhaseError::NotAllowed {
                phase: self.zh(),
                what: "政策尚未公布，不能评估",
            });
        }
        if self.rank() >= Phase::ResultsPublication.rank()
            && correction_reason.is_none_or(|r| r.trim().is_empty())
        {
            return Err(PhaseError::NotAllowed {
                phase: self.zh(),
                what: "评估结果已公示，修改须作为更正并写明原因",
            });
        }
        Ok(())
    }

    fn rank(self) -> usize {
        Phase::ALL.iter().position(|p| *p == self).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_move_forward_one_at_a_time() {
        for w in Phase::ALL.windows(2) {
            assert_eq!(w[0].check_move(w[1]), Ok(()));
            assert!(w[1].check_move(w[0]).is_err());
        }
        assert!(Phase::Registration.check_move(Phase::Lottery).is_err());
        assert_eq!(
            Phase::Handover.check_move(Phase::Handover),
            Err(PhaseError::Last)
        );
    }

    #[test]
    fn each_phase_allows_what_it_should() {
        use Phase::*;
        let reg: Vec<bool> = Phase::ALL
            .iter()
            .map(|p| p.check_registration(false).is_ok())
            .collect();
        assert_eq!(
            reg,
            [false, false, true, true, true, true, false, false, false]
        );
        assert!(Lottery.check_registration(true).is_err());
        assert!(Preparation.check_assessment(None).is_err());
        assert!(Assessment.check_assessment(None).is_ok());
        assert!(ResultsPublication.check_assessment(None).is_err());
        assert!(ResultsPublication.check_assessment(Some("  ")).is_err());
        assert!(ResultsPublication
            .check_assessment(Some("异议复核：面积重测"))
            .is_ok());
    }
}

/// Why a resettlement write was refused: each is the user's mistake or the project's state, told
/// in zh-CN; nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResettlementError {
    /// The phase does not allow it.
    #[error(transparent)]
    Phase(#[from] PhaseError),
    /// The policy was refused.
    #[error("政策有误：{0}")]
    Policy(#[from] policy::PolicyError),
    /// The computation was refused.
    #[error(transparent)]
    Entitlement(#[from] entitlement::EntitlementError),
    /// The lottery refused.
    #[error(transparent)]
    Lottery(#[from] crate::lottery::LotteryError),
    /// No policy published yet.
    #[error("项目尚未公布安置政策")]
    NoPolicy,
    /// A policy version that is not the next one.
    #[error("政策版本应为 {expected}，而不是 {given}")]
    PolicyVersion {
        /// The next version.
        expected: u32,
        /// The version written.
        given: u32,
    },
    /// The household is not in the project's villages.
    #[error("该户不在本项目范围内")]
    NotInProject,
    /// A phase only some other action moves into.
    #[error("“{0}”阶段由{1}进入，不能直接切换")]
    MovedByAction(&'static str, &'static str),
    /// Households without an assessment when publishing results.
    #[error("还有 {0} 户尚未评估，不能发布结果公示")]
    Unassessed(i64),
    /// Objections still open.
    #[error("结果公示还有 {0} 条异议未答复，不能进入摇号")]
    ObjectionsOpen(i64),
    /// The objection window is still open.
    #[error("结果公示的异议期尚未结束（至 {0}），不能进入摇号")]
    ObjectionWindowOpen(String),
    /// Nobody registered.
    #[error("还没有已登记的户，不能冻结摇号名单")]
    NobodyRegistered,
    /// Freeze twice.
    #[error("摇号名单已于 {0} 冻结")]
    AlreadyFrozen(String),
    /// Draw before the freeze.
    #[error("摇号名单尚未冻结")]
    NotFrozen,
    /// Draw twice without a reason.
    #[error("已经摇号；重新摇号须写明原因，并将公开显示")]
    AlreadyDrawn,
    /// Selection before the draw.
    #[error("尚未摇号，不能进入选房阶段")]
    NotDrawn,
    /// A redraw with the parties' values already revealed: whoever types the public number could
    /// try numbers against values everyone now knows.
    #[error("上次摇号已揭示各方的值；重新摇号前，各方须重新登记承诺（新值的哈希）并公布")]
    CommitmentSpent,
    /// A new commitment before anything was drawn with the old one.
    #[error("尚未摇号，当前承诺仍然有效，不需要重新登记")]
    CommitmentUnused,
}

/// A name as a 公示 shows it: the family name and 某 (`张某`, `欧阳某`).
pub fn masked_name(name: &str) -> String {
    const COMPOUND: &[&str] = &[
        "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "司徒", "令狐",
        "夏侯", "长孙", "宇文", "轩辕", "端木", "独孤", "南宫", "西门",
    ];
    let name = name.trim();
    let family = COMPOUND
        .iter()
        .find(|c| name.starts_with(**c) && name.chars().count() > 2)
        .map(|c| (*c).to_owned())
        .unwrap_or_else(|| name.chars().take(1).collect());
    format!("{family}某")
}

/// One household's line in the results 公示.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedResult {
    /// 户号
    pub household_key: String,
    /// Village name.
    pub village: String,
    /// The head's name (masked when written).
    pub head_name: String,
    /// Σ weights of the eligible members.
    pub eligible_persons: crate::money::Qty,
    /// 安置面积
    pub entitled_area: crate::money::Qty,
    /// 补偿合计
    pub compensation: crate::money::Fen,
}

/// The text of the results 公示: one line per household, names masked, no identity numbers.
pub fn results_text(project: &str, policy_version: u32, rows: &[PublishedResult]) -> String {
    use std::fmt::Write as _;
    let mut s = format!(
        "{project}入户评估结果公示（按第 {policy_version} 版安置政策核算）。\n\n\
         下列各户的安置人口、安置面积与补偿金额如有异议，请在异议期内提出，工作人员将逐条答复。\n\n\
         户号｜村｜户主｜安置人口｜安置面积（m²）｜补偿合计（元）\n"
    );
    for r in rows {
        let _ = writeln!(
            s,
            "{}｜{}｜{}｜{}｜{}｜{}",
            r.household_key,
            r.village,
            masked_name(&r.head_name),
            r.eligible_persons.short(),
            r.entitled_area.short(),
            r.compensation.grouped()
        );
    }
    let _ = write!(s, "\n共 {} 户。", rows.len());
    s
}

/// The text of a policy notice: the policy in plain zh-CN for residents, and where its
/// machine-readable text is (anyone can recompute a household's result from it) — never the TOML
/// itself, with its comments, in the notice.
pub fn policy_text(policy: &policy::Policy, source_url: &str) -> String {
    format!(
        "{}\n\n本政策的机读文本（用于复核每户核算结果）可在 {source_url} 下载。",
        policy.render_zh().trim(),
    )
}

/// The text of the freeze notice: the list's hash and how the seed will be fixed.
pub fn freeze_text(project: &str, list: &[String], list_sha256: &str, seed_rule: &str) -> String {
    format!(
        "{project}摇号名单已冻结，共 {} 户。\n\n名单 SHA-256：{list_sha256}\n\n\
         种子确定方式：{seed_rule}\n\n\
         摇号算法（{}）：名单按户号的 UTF-8 字节排序，每个户号后接一个换行符，对全文计算 SHA-256 即上面的名单哈希；\
         每户的排序键为 SHA-256(种子 + 换行 + 名单哈希 + 换行 + 户号)，按排序键从小到大即为选房顺序。\
         摇号结果连同完整证明（名单、种子、顺序）公开下载，任何人都可以用 yongxin lottery verify 或仓库中的独立校验脚本复核。\n\n\
         冻结名单（按规范顺序）：\n{}",
        list.len(),
        crate::lottery::ALGORITHM,
        list.join("\n")
    )
}

#[cfg(test)]
mod text_tests {
    use super::*;

    #[test]
    fn names_are_masked_to_the_family_name() {
        assert_eq!(masked_name("张伟"), "张某");
        assert_eq!(masked_name("欧阳娜娜"), "欧阳某");
        assert_eq!(masked_name("欧阳"), "欧某");
        assert_eq!(masked_name(""), "某");
    }
}
