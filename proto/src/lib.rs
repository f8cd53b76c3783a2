//! deedlog's gRPC API, generated from `proto/deedlog/**/*.proto`.
//!
//! One package per context (`deedlog.<context>.v1`), each with one service
//! and one RPC per command; every command request carries
//! [`common::v1::CommandOptions`] and every reply a
//! [`common::v1::CommandReply`]. Events travel as JSON payloads in
//! [`common::v1::EventEnvelope`] (ADR 0001).

// Generated code: its style is prost's, not ours.
#![allow(missing_debug_implementations, clippy::all)]

pub mod common {
    pub mod v1 {
        tonic::include_proto!("deedlog.common.v1");
    }
}

pub mod tenancy {
    pub mod v1 {
        tonic::include_proto!("deedlog.tenancy.v1");
    }
}

pub mod properties {
    pub mod v1 {
        tonic::include_proto!("deedlog.properties.v1");
    }
}

pub mod deals {
    pub mod v1 {
        tonic::include_proto!("deedlog.deals.v1");
    }
}

pub mod communications {
    pub mod v1 {
        tonic::include_proto!("deedlog.communications.v1");
    }
}

/// The encoded `FileDescriptorSet` of every deedlog package, for server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("deedlog_descriptor");
