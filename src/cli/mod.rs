//! The command-line surface: what it accepts (`args`), how a command line
//! runs (`run`), and one module per command that does more than call a
//! crate.

mod args;
mod config;
mod keys;
mod migrate;
mod privacy;
mod run;
mod seal;
mod serve;
#[cfg(test)]
mod tests;

pub use args::{Cli, SeedArgs};
pub use run::run;
