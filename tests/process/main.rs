//! The `deedlog` binary as an operator runs it.

mod audit;
mod bad_input;
mod connections;
mod erasure;
mod help;
mod master_key;
mod privacy;
mod private_postgres;
mod quick_start;
mod seal;
mod seed;
mod shutdown;
mod telemetry;
