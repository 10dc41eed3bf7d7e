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
