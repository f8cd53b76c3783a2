//! End-to-end tests of the GraphQL gateway: the whole cluster on port 0
//! against a fresh PostgreSQL database, driven over real HTTP and WebSocket.

mod access;
mod audit_proof;
mod cache;
mod contact_export;
mod contact_search;
mod contract;
mod credentials;
mod errors;
mod fields;
mod figures;
mod forgetting;
mod int64;
mod journey;
mod jwks;
mod kafka;
mod live;
mod notifications;
mod protection;
mod reads;
mod redaction;
mod screens;

use deedlog_cluster::Component;
use deedlog_proto::tenancy::v1::Role;
use deedlog_tests::{Answer, Clients, Gql, Session, TestCluster};
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

    /// A world with tenant `slug` registered and its admin signed in: where
    /// most tests begin.
    pub async fn with_tenant(slug: &str) -> (Self, Session) {
        Self::with_tenant_and(slug, |f| f).await
    }

    /// [`World::with_tenant`] with extra settings.
    pub async fn with_tenant_and(
        slug: &str,
        tweak: impl FnOnce(figment::Figment) -> figment::Figment,
    ) -> (Self, Session) {
        let mut world = Self::with(tweak).await;
        let admin = world.clients.register(slug).await;
        (world, admin)
    }

    /// Invites a user with `role` into `admin`'s tenant and signs them in.
    pub async fn colleague(&mut self, admin: &Session, role: Role, name: &str) -> Session {
        self.clients.colleague(admin, role, name).await
    }

    /// The id of a new property in Berlin asking 450,000 EUR, created
    /// through the gateway as `user`.
    pub async fn property_id(&self, user: &Session) -> Value {
        create_property(&self.gql, &user.access, "Berlin", 45_000_000).await["recordId"].clone()
    }

    /// The id of a new contact named `name`, created through the gateway as
    /// `user`.
    pub async fn contact_id(&self, user: &Session, name: &str) -> Value {
        let variables = json!({"k": Uuid::now_v7(), "name": name});
        let created = self.gql.run_as(user, CREATE_CONTACT, variables).await;
        created.data()["createContact"]["recordId"].clone()
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

pub const CREATE_CONTACT: &str = "mutation($k: UUID!, $name: String!, $email: String) { createContact(command: {idempotencyKey: $k}, details: {name: $name, email: $email}) { recordId } }";

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

/// Asks as `user` for a position the log has not reached, waiting
/// `timeout_ms`, and asserts the answer says the read model is behind.
pub async fn far_ahead(gql: &Gql, user: &Session, timeout_ms: u64) -> Answer {
    let query = format!(
        "{{ atLeast(position: 999999999, timeoutMs: {timeout_ms}) {{ tenant {{ slug }} }} }}"
    );
    let answer = gql
        .refused_as(user, &query, json!({}), "UNAVAILABLE", "not yet 999999999")
        .await;
    let reason = &answer.body["errors"][0]["extensions"]["reason"];
    assert_eq!(reason, "READ_MODEL_BEHIND", "{}", answer.body);
    answer
}

/// Rebuilds the read model `name` from the log beside the running
/// projector and swaps it in (as `deedlog rebuild <name>` does). The
/// reader has no keyring: only for projections that open no personal field.
pub async fn rebuild(w: &World, name: &str) {
    let options = w.cluster.database_options();
    let connect = deedlog_eventstore::ConnectOptions {
        connect: options.clone(),
        max_connections: 2,
        acquire_timeout: std::time::Duration::from_secs(10),
        app_role: "deedlog_app".into(),
        reader_role: "deedlog_log_reader".into(),
    };
    let reader = deedlog_eventstore::LogReader::connect(
        &connect,
        std::sync::Arc::new(deedlog_eventstore::Upcasters::new()),
    )
    .await
    .expect("reader");
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect_with(options)
        .await
        .expect("pool");
    let projection = deedlog_projector::projections::by_name(name).expect("known");
    deedlog_projector::rebuild::rebuild(&pool, &reader, projection, 100, &mut |_| {})
        .await
        .expect("rebuild");
    pool.close().await;
}
