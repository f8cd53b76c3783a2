//! The listing status and the only moves it may make.

use serde::{Deserialize, Serialize};

/// Where a property is in its listing life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListingStatus {
    Draft,
    Active,
    Reserved,
    UnderContract,
    Sold,
    Withdrawn,
}

impl ListingStatus {
    pub const ALL: [ListingStatus; 6] = [
        ListingStatus::Draft,
        ListingStatus::Active,
        ListingStatus::Reserved,
        ListingStatus::UnderContract,
        ListingStatus::Sold,
        ListingStatus::Withdrawn,
    ];

    /// The statuses this one may move to: draft → active → reserved →
    /// under_contract → sold; active, reserved or under_contract → withdrawn;
    /// withdrawn → active; sold is final.
    pub fn allowed_moves(self) -> &'static [ListingStatus] {
        use ListingStatus::*;
        match self {
            Draft => &[Active],
            Active => &[Reserved, Withdrawn],
            Reserved => &[UnderContract, Withdrawn],
            UnderContract => &[Sold, Withdrawn],
            Withdrawn => &[Active],
            Sold => &[],
        }
    }

    pub fn may_move_to(self, to: ListingStatus) -> bool {
        self.allowed_moves().contains(&to)
    }
}

deedlog_kernel::stored_names!(ListingStatus {
    Draft => "draft",
    Active => "active",
    Reserved => "reserved",
    UnderContract => "under_contract",
    Sold => "sold",
    Withdrawn => "withdrawn",
});

#[cfg(test)]
mod tests {
    use super::ListingStatus::*;
    use super::*;

    #[test]
    fn the_moves_are_exactly_those_of_the_spec() {
        let allowed = [
            (Draft, Active),
            (Active, Reserved),
            (Reserved, UnderContract),
            (UnderContract, Sold),
            (Active, Withdrawn),
            (Reserved, Withdrawn),
            (UnderContract, Withdrawn),
            (Withdrawn, Active),
        ];
        for from in ListingStatus::ALL {
            for to in ListingStatus::ALL {
                assert_eq!(
                    from.may_move_to(to),
                    allowed.contains(&(from, to)),
                    "{from} -> {to}"
                );
            }
        }
    }
}
