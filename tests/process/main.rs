//! The `deedlog` binary as an operator runs it.

mod audit;
mod bad_input;
mod quick_start;
mod shutdown;
mod telemetry;
