//! Deal stages, their order and default probabilities.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Lead,
    Qualified,
    Viewing,
    Offer,
    Negotiation,
    UnderContract,
    ClosedWon,
    ClosedLost,
}

/// The open stages in pipeline order.
pub const OPEN: [Stage; 6] = [
    Stage::Lead,
    Stage::Qualified,
    Stage::Viewing,
    Stage::Offer,
    Stage::Negotiation,
    Stage::UnderContract,
];

impl Stage {
    /// The open stages in pipeline order, then the two closed ones; built
    /// from `OPEN` so the order is written once.
    pub const ALL: [Stage; 8] = {
        let mut all = [Stage::ClosedLost; 8];
        let mut i = 0;
        while i < OPEN.len() {
            all[i] = OPEN[i];
            i += 1;
        }
        all[OPEN.len()] = Stage::ClosedWon;
        all[OPEN.len() + 1] = Stage::ClosedLost;
        all
    };

    pub fn is_open(self) -> bool {
        !matches!(self, Stage::ClosedWon | Stage::ClosedLost)
    }

    /// Default probability of closing, in percent.
    pub fn default_probability_pct(self) -> u8 {
        match self {
            Stage::Lead => 5,
            Stage::Qualified => 10,
            Stage::Viewing => 20,
            Stage::Offer => 40,
            Stage::Negotiation => 60,
            Stage::UnderContract => 90,
            Stage::ClosedWon => 100,
            Stage::ClosedLost => 0,
        }
    }

    fn index(self) -> Option<usize> {
        OPEN.iter().position(|s| *s == self)
    }

    /// The stages a plain move may reach: one step forward (closed_won after
    /// under_contract), one step back. Losing and winning have their own commands
    /// but are listed so a refusal names every way forward.
    pub fn allowed_moves(self) -> Vec<Stage> {
        let Some(i) = self.index() else {
            return Vec::new();
        };
        let mut moves = Vec::new();
        if i > 0 {
            moves.push(OPEN[i - 1]);
        }
        moves.push(OPEN.get(i + 1).copied().unwrap_or(Stage::ClosedWon));
        moves.push(Stage::ClosedLost);
        moves
    }
}

deedlog_kernel::stored_names!(Stage {
    Lead => "lead",
    Qualified => "qualified",
    Viewing => "viewing",
    Offer => "offer",
    Negotiation => "negotiation",
    UnderContract => "under_contract",
    ClosedWon => "closed_won",
    ClosedLost => "closed_lost",
});

#[cfg(test)]
mod tests {
    use super::Stage::*;
    use super::*;

    #[test]
    fn moves_are_one_step_either_way_or_a_close() {
        assert_eq!(Lead.allowed_moves(), vec![Qualified, ClosedLost]);
        assert_eq!(
            Offer.allowed_moves(),
            vec![Viewing, Negotiation, ClosedLost]
        );
        assert_eq!(
            UnderContract.allowed_moves(),
            vec![Negotiation, ClosedWon, ClosedLost]
        );
        assert!(ClosedWon.allowed_moves().is_empty());
        assert!(ClosedLost.allowed_moves().is_empty());
    }

    #[test]
    fn default_probabilities_follow_the_spec() {
        let expected = [5, 10, 20, 40, 60, 90, 100, 0];
        for (stage, pct) in Stage::ALL.into_iter().zip(expected) {
            assert_eq!(stage.default_probability_pct(), pct, "{stage}");
        }
    }
}
