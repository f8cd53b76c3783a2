//! The `deedlog` binary as an operator runs it.

mod audit;
mod quick_start;
mod shutdown;
