//! The `deedlog` binary as an operator runs it.

mod audit;
mod bad_input;
mod connections;
mod erasure;
mod help;
mod master_key;
mod private_postgres;
mod privacy;
mod quick_start;
mod seed;
mod shutdown;
mod telemetry;
