//! The deals service role.

super::directory_service!(deedlog_deals::DealsApi);
