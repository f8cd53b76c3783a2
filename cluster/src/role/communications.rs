//! The communications service role.

super::directory_service!(deedlog_communications::CommunicationsApi);
