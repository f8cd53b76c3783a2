//! gRPC clients of a test cluster, and helpers for the usual first steps:
//! register a tenant, sign in, invite a colleague with a role.

use crate::cluster::TestCluster;
use deedlog_client::Caller;
use deedlog_cluster::Component;
use deedlog_proto::common::v1::{CommandOptions, CommandReply};
use deedlog_proto::tenancy::v1 as tenancy;
use deedlog_proto::{communications::v1 as comms, deals::v1 as deals, properties::v1 as props};
use std::ops::{Deref, DerefMut};
use tonic::Request;
use uuid::Uuid;

pub const PASSWORD: &str = "correct horse battery staple";

/// A request creating a house in Berlin.
pub fn house_in_berlin() -> props::CreatePropertyRequest {
    props::CreatePropertyRequest {
        command: command(),
        address: Some(props::Address {
            street: "Hauptstr. 1".into(),
            postal_code: "10115".into(),
            city: "Berlin".into(),
            country: "DE".into(),
            ..Default::default()
        }),
        kind: props::PropertyKind::House.into(),
        ..Default::default()
    }
}

/// One client per service (the `deedlog-client` bundle), with the usual
/// first steps of a test.
#[derive(Debug, Clone)]
pub struct Clients(deedlog_client::Clients);

impl Deref for Clients {
    type Target = deedlog_client::Clients;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl DerefMut for Clients {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

/// A signed-in user.
#[derive(Debug, Clone)]
pub struct Session {
    pub tenant_id: String,
    pub user_id: String,
    pub access: String,
    pub refresh: String,
    pub slug: String,
    pub email: String,
}

impl Session {
    /// `message` with this user's bearer token.
    pub fn request<T>(&self, message: T) -> Request<T> {
        bearer(&self.access, message)
    }
}

/// `message` with `token` as its bearer token.
pub fn bearer<T>(token: &str, message: T) -> Request<T> {
    Caller::with_bearer(token)
        .expect("ascii token")
        .request(message)
}

/// Fresh command options.
/// A contact reachable by email and phone, with no consent yet.
pub fn mia_berg() -> comms::ContactDetails {
    comms::ContactDetails {
        name: "Mia Berg".to_owned(),
        email: "mia.berg@example.com".to_owned(),
        phone: "+4915112345678".to_owned(),
        ..Default::default()
    }
}

pub fn command() -> Option<CommandOptions> {
    Some(CommandOptions {
        command_id: Uuid::now_v7().to_string(),
        ..CommandOptions::default()
    })
}

/// Command options with a given id and expected version.
pub fn command_with(id: Uuid, expected_version: Option<u64>) -> Option<CommandOptions> {
    Some(CommandOptions {
        command_id: id.to_string(),
        expected_version,
        ..CommandOptions::default()
    })
}

/// Starts the command services, connects to them and registers tenant
/// `slug` with its admin signed in: where most tests begin.
pub async fn start_with_tenant(slug: &str) -> (TestCluster, Clients, Session) {
    let (cluster, mut c) = start_connected().await;
    let admin = c.register(slug).await;
    (cluster, c, admin)
}

/// Starts the command services and connects to them.
pub async fn start_connected() -> (TestCluster, Clients) {
    let cluster = TestCluster::start().await;
    let c = Clients::connect(&cluster).await;
    (cluster, c)
}

impl Clients {
    pub async fn connect(cluster: &TestCluster) -> Self {
        Self::at(|c| cluster.url(c))
    }

    /// Clients of the services at `url(component)` (e.g. a `deedlog up`
    /// started as a process).
    pub fn at(url: impl Fn(Component) -> String) -> Self {
        let endpoints = deedlog_client::Endpoints {
            tenancy: url(Component::Tenancy),
            properties: url(Component::Properties),
            deals: url(Component::Deals),
            communications: url(Component::Communications),
        };
        Self(deedlog_client::Clients::connect_lazy(&endpoints, None).expect("url"))
    }

    /// Registers a tenant and signs its first admin in.
    pub async fn register(&mut self, slug: &str) -> Session {
        let email = format!("admin@{slug}.example");
        self.tenancy
            .register_tenant(tenancy::RegisterTenantRequest {
                command: command(),
                name: format!("{slug} Immobilien"),
                slug: slug.to_owned(),
                admin_email: email.clone(),
                admin_display_name: "Anna Berg".to_owned(),
                admin_password: PASSWORD.to_owned(),
            })
            .await
            .expect("register tenant");
        self.login(slug, &email, PASSWORD)
            .await
            .expect("admin logs in")
    }

    pub async fn login(
        &mut self,
        slug: &str,
        email: &str,
        password: &str,
    ) -> Result<Session, tonic::Status> {
        let pair = self
            .tenancy
            .login(tenancy::LoginRequest {
                tenant_slug: slug.to_owned(),
                email: email.to_owned(),
                password: password.to_owned(),
            })
            .await?
            .into_inner();
        Ok(Session {
            tenant_id: pair.tenant_id,
            user_id: pair.user_id,
            access: pair.access_token,
            refresh: pair.refresh_token,
            slug: slug.to_owned(),
            email: email.to_owned(),
        })
    }

    /// Exchanges `refresh_token` for a new pair.
    pub async fn rotate(&mut self, refresh_token: &str) -> tenancy::TokenPair {
        self.tenancy
            .refresh(crate::fixtures::refresh(refresh_token))
            .await
            .expect("exchange the refresh token")
            .into_inner()
    }

    /// Creates a property (a house in Berlin) as `s` and returns its id.
    pub async fn property(&mut self, s: &Session) -> String {
        self.create_property(s, house_in_berlin()).await.record_id
    }

    /// Creates a listed apartment as `s` and returns its id.
    pub async fn listing(&mut self, s: &Session) -> String {
        self.create_property(s, crate::fixtures::listed_apartment())
            .await
            .record_id
    }

    /// Creates the property `request` describes, as `s`.
    pub async fn create_property(
        &mut self,
        s: &Session,
        request: props::CreatePropertyRequest,
    ) -> CommandReply {
        self.properties
            .create_property(s.request(request))
            .await
            .expect("create property")
            .into_inner()
    }

    /// Opens the deal `request` describes, as `s`, and returns its id.
    pub async fn open_deal(&mut self, s: &Session, request: deals::OpenDealRequest) -> String {
        self.deals
            .open_deal(s.request(request))
            .await
            .expect("open deal")
            .into_inner()
            .record_id
    }

    /// Opens a deal for a new property and buyer with an offer of 400,000
    /// EUR, as `s`, and returns its id.
    pub async fn deal(&mut self, s: &Session) -> String {
        let request = deals::OpenDealRequest {
            offer: crate::fixtures::eur(40_000_000),
            ..self.new_deal(s).await
        };
        self.open_deal(s, request).await
    }

    /// Suspends `admin`'s own tenant.
    pub async fn suspend(&mut self, admin: &Session) {
        self.tenancy
            .suspend_tenant(admin.request(crate::fixtures::suspend(&admin.tenant_id)))
            .await
            .expect("suspend the tenant");
    }

    /// Creates a contact named `name` as `s` and returns its id.
    pub async fn contact(&mut self, s: &Session, name: &str) -> String {
        self.contact_with(
            s,
            comms::ContactDetails {
                name: name.to_owned(),
                ..Default::default()
            },
        )
        .await
    }

    /// A new contact of `s`'s tenant with `details`; returns its id.
    pub async fn contact_with(&mut self, s: &Session, details: comms::ContactDetails) -> String {
        self.communications
            .create_contact(s.request(comms::CreateContactRequest {
                command: command(),
                details: Some(details),
                ..Default::default()
            }))
            .await
            .expect("create contact")
            .into_inner()
            .record_id
    }

    /// An open-deal request for a new property and a new buyer contact of
    /// `s`'s tenant (a deal names records that exist).
    pub async fn new_deal(&mut self, s: &Session) -> deals::OpenDealRequest {
        deals::OpenDealRequest {
            command: command(),
            property_id: self.property(s).await,
            buyer_contact_id: self.contact(s, "Ben Buyer").await,
            ..Default::default()
        }
    }

    /// Invites `name` (`name@<slug>.example`) with `role` as `admin`.
    pub async fn invite(
        &mut self,
        admin: &Session,
        role: tenancy::Role,
        name: &str,
    ) -> tenancy::InviteUserReply {
        self.tenancy
            .invite_user(admin.request(tenancy::InviteUserRequest {
                command: command(),
                email: format!("{name}@{}.example", admin.slug),
                display_name: name.to_owned(),
                role: role.into(),
            }))
            .await
            .expect("invite")
            .into_inner()
    }

    /// Invites a user with `role`, accepts the invitation and signs them in.
    pub async fn colleague(&mut self, admin: &Session, role: tenancy::Role, name: &str) -> Session {
        let email = format!("{name}@{}.example", admin.slug);
        let invited = self.invite(admin, role, name).await;
        self.tenancy
            .accept_invitation(tenancy::AcceptInvitationRequest {
                command: command(),
                invitation_token: invited.invitation_token,
                password: PASSWORD.to_owned(),
            })
            .await
            .expect("accept invitation");
        self.login(&admin.slug, &email, PASSWORD)
            .await
            .expect("colleague logs in")
    }
}
