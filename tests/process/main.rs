//! The `deedlog` binary as an operator runs it.

mod audit;
mod shutdown;
