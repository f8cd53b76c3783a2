//! The one edge vocabulary of failures: every layer's error maps to an
//! [`ErrorCode`], and each code maps exhaustively to a gRPC status code, a
//! GraphQL `extensions.code` and an HTTP status.

/// What kind of failure a caller is told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The request itself is wrong (a field is missing or malformed).
    InvalidArgument,
    /// The rules refuse the command in the record's current state.
    RuleRefused,
    /// Another command changed the record first (optimistic concurrency).
    Conflict,
    Unauthenticated,
    PermissionDenied,
    NotFound,
    RateLimited,
    /// A dependency (the database, another service) is unreachable; retry later.
    Unavailable,
    /// A bug or corruption; details are logged, never shown.
    Internal,
}

impl ErrorCode {
    pub fn grpc(self) -> tonic::Code {
        match self {
            ErrorCode::InvalidArgument => tonic::Code::InvalidArgument,
            ErrorCode::RuleRefused => tonic::Code::FailedPrecondition,
            ErrorCode::Conflict => tonic::Code::Aborted,
            ErrorCode::Unauthenticated => tonic::Code::Unauthenticated,
            ErrorCode::PermissionDenied => tonic::Code::PermissionDenied,
            ErrorCode::NotFound => tonic::Code::NotFound,
            ErrorCode::RateLimited => tonic::Code::ResourceExhausted,
            ErrorCode::Unavailable => tonic::Code::Unavailable,
            ErrorCode::Internal => tonic::Code::Internal,
        }
    }

    /// The code for a gRPC status received from another service.
    pub fn from_grpc(code: tonic::Code) -> Self {
        match code {
            tonic::Code::InvalidArgument | tonic::Code::OutOfRange => ErrorCode::InvalidArgument,
            tonic::Code::FailedPrecondition => ErrorCode::RuleRefused,
            tonic::Code::Aborted | tonic::Code::AlreadyExists => ErrorCode::Conflict,
            tonic::Code::Unauthenticated => ErrorCode::Unauthenticated,
            tonic::Code::PermissionDenied => ErrorCode::PermissionDenied,
            tonic::Code::NotFound => ErrorCode::NotFound,
            tonic::Code::ResourceExhausted => ErrorCode::RateLimited,
            tonic::Code::Unavailable | tonic::Code::DeadlineExceeded | tonic::Code::Cancelled => {
                ErrorCode::Unavailable
            }
            _ => ErrorCode::Internal,
        }
    }

    /// The GraphQL `extensions.code`.
    pub fn graphql(self) -> &'static str {
        match self {
            ErrorCode::InvalidArgument => "BAD_USER_INPUT",
            ErrorCode::RuleRefused => "RULE_REFUSED",
            ErrorCode::Conflict => "CONFLICT",
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::PermissionDenied => "FORBIDDEN",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::Unavailable => "UNAVAILABLE",
            ErrorCode::Internal => "INTERNAL",
        }
    }

    /// Whether the same request may succeed if sent again unchanged, after
    /// a pause (a conflict needs the record reloaded and a new decision).
    pub fn retryable(self) -> bool {
        matches!(self, ErrorCode::Unavailable | ErrorCode::RateLimited)
    }

    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::InvalidArgument => 400,
            ErrorCode::RuleRefused => 422,
            ErrorCode::Conflict => 409,
            ErrorCode::Unauthenticated => 401,
            ErrorCode::PermissionDenied => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::RateLimited => 429,
            ErrorCode::Unavailable => 503,
            ErrorCode::Internal => 500,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [ErrorCode; 9] = [
        ErrorCode::InvalidArgument,
        ErrorCode::RuleRefused,
        ErrorCode::Conflict,
        ErrorCode::Unauthenticated,
        ErrorCode::PermissionDenied,
        ErrorCode::NotFound,
        ErrorCode::RateLimited,
        ErrorCode::Unavailable,
        ErrorCode::Internal,
    ];

    #[test]
    fn every_code_survives_a_grpc_round_trip() {
        for code in ALL {
            assert_eq!(ErrorCode::from_grpc(code.grpc()), code, "{code:?}");
        }
    }

    #[test]
    fn only_what_may_succeed_unchanged_is_retryable() {
        assert_eq!(ErrorCode::Unavailable.graphql(), "UNAVAILABLE");
        assert_eq!(ErrorCode::Internal.graphql(), "INTERNAL");
        let retryable: Vec<ErrorCode> = ALL.into_iter().filter(|c| c.retryable()).collect();
        assert_eq!(retryable, [ErrorCode::RateLimited, ErrorCode::Unavailable]);
        assert_eq!(ErrorCode::RuleRefused.http_status(), 422);
    }
}
