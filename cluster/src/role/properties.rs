//! The properties service role.

super::directory_service!(deedlog_properties::PropertiesApi);
