//! Generates the gRPC code from `deedlog/**/*.proto` with a vendored protoc,
//! so building needs nothing installed, and writes the descriptor set that
//! server reflection serves.

use std::path::PathBuf;

const PROTOS: [&str; 5] = [
    "deedlog/common/v1/common.proto",
    "deedlog/tenancy/v1/tenancy.proto",
    "deedlog/properties/v1/properties.proto",
    "deedlog/deals/v1/deals.proto",
    "deedlog/communications/v1/communications.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    let mut config = tonic_prost_build::Config::new();
    config.protoc_executable(protoc_bin_vendored::protoc_bin_path()?);
    tonic_prost_build::configure()
        .build_client(std::env::var_os("CARGO_FEATURE_CLIENT").is_some())
        .build_server(std::env::var_os("CARGO_FEATURE_SERVER").is_some())
        .file_descriptor_set_path(out_dir.join("deedlog_descriptor.bin"))
        .compile_with_config(config, &PROTOS, &["."])?;
    for proto in PROTOS {
        println!("cargo:rerun-if-changed={proto}");
    }
    Ok(())
}
