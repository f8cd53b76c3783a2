//! The read-model columns that hold personal data (ADR 0035): what the
//! analyst role may not read, and what forgetting a contact or a user
//! erases. `docs/read-models.md` marks the same columns (a test checks
//! both agree), and each projection's forgetting is tested against a
//! rebuild from the erased log.

/// The personal columns of one read-model table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PersonalColumns {
    pub table: &'static str,
    pub columns: &'static [&'static str],
}

const COMMUNICATIONS: &[PersonalColumns] = &[
    PersonalColumns {
        table: "contacts",
        columns: &[
            "name",
            "email",
            "phone",
            "street",
            "postal_code",
            "city",
            "country",
            "email_index",
            "phone_index",
        ],
    },
    PersonalColumns {
        table: "messages",
        columns: &["subject", "body", "bounce_detail"],
    },
];

const TENANCY: &[PersonalColumns] = &[PersonalColumns {
    table: "users",
    columns: &["email", "display_name"],
}];

const TIMELINE: &[PersonalColumns] = &[
    // Summaries name agents by display name; texts add the actor's.
    PersonalColumns {
        table: "entries",
        columns: &["actor_name", "summary", "text"],
    },
    PersonalColumns {
        table: "actors",
        columns: &["display_name"],
    },
];

/// The personal columns of the projection called `projection`.
pub fn of(projection: &str) -> &'static [PersonalColumns] {
    match projection {
        "communications" => COMMUNICATIONS,
        "tenancy" => TENANCY,
        "timeline" => TIMELINE,
        _ => &[],
    }
}

/// The personal columns of `table` of `projection`.
pub fn columns(projection: &str, table: &str) -> &'static [&'static str] {
    of(projection)
        .iter()
        .find(|t| t.table == table)
        .map_or(&[], |t| t.columns)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_personal_column_is_a_column_of_its_projections_ddl() {
        for projection in crate::projections::all() {
            let statements = crate::ddl::statements(projection.ddl());
            for personal in super::of(projection.name()) {
                let table = statements
                    .iter()
                    .find(|s| s.contains(&format!("CREATE TABLE {} (", personal.table)))
                    .unwrap_or_else(|| {
                        panic!("{}: no table {}", projection.name(), personal.table)
                    });
                for column in personal.columns {
                    assert!(
                        table
                            .lines()
                            .any(|line| line.trim_start().starts_with(&format!("{column} "))),
                        "{}.{}: no column {column}",
                        projection.name(),
                        personal.table
                    );
                }
            }
        }
    }
}
