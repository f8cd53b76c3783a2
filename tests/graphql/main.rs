//! End-to-end tests of the GraphQL gateway: the whole cluster on port 0
//! against a fresh PostgreSQL database, driven over real HTTP and WebSocket.

mod access;
mod contract;
mod credentials;
mod errors;
mod fields;
mod int64;
mod journey;
mod jwks;
mod kafka;
mod live;
mod protection;
mod reads;
mod redaction;

use deedlog_cluster::Component;
use deedlog_tests::{Clients, Gql, TestCluster};
use serde_json::{json, Value};
use uuid::Uuid;

/// A running cluster with its gateway and gRPC clients for setting up.
#[derive(Debug)]
pub struct World {
    pub cluster: TestCluster,
    pub gql: Gql,
    pub clients: Clients,
}

impl World {
    pub async fn start() -> Self {
        Self::with(|f| f).await
    }

    pub async fn with(tweak: impl FnOnce(figment::Figment) -> figment::Figment) -> Self {
        let cluster = TestCluster::start_all_with(tweak).await;
        let gql = Gql::new(&cluster.url(Component::Gateway));
        let clients = Clients::connect(&cluster).await;
        Self {
            cluster,
            gql,
            clients,
        }
    }
}

pub const CREATE_PROPERTY: &str = r#"
mutation Create($key: UUID!, $city: String!, $price: Int64!) {
  createProperty(
    command: { idempotencyKey: $key }
    input: {
      address: { street: "Lindenstraße 5", postalCode: "10969", city: $city, country: "DE" }
      kind: APARTMENT
      askingPrice: { amountMinor: $price, currency: "EUR" }
      tags: ["balcony"]
    }
  ) {
    recordId version position duplicate
    property { propertyId city askingPriceMinor listingStatus tags }
  }
}"#;

/// Creates a property through the gateway and returns the mutation's data.
pub async fn create_property(gql: &Gql, token: &str, city: &str, price: i64) -> Value {
    let answer = gql
        .run(
            Some(token),
            CREATE_PROPERTY,
            json!({ "key": Uuid::now_v7(), "city": city, "price": price }),
        )
        .await;
    answer.data()["createProperty"].clone()
}
