//! Roles and modules are shared by every context's authorisation, so they
//! live in the kernel; tenancy owns who has which.

pub use deedlog_kernel::role::{Module, Role};
