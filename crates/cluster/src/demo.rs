//! Demo data for `deedlog up`: a tenant with an admin and an agent, a few
//! properties, contacts with consent and deals, created through the real
//! gRPC services. Every command has a fixed id, so running it again on the
//! same database changes nothing.

use anyhow::Context;
use deedlog_proto::common::v1::{CommandOptions, Money};
use deedlog_proto::communications::v1 as comms;
use deedlog_proto::communications::v1::communications_service_client::CommunicationsServiceClient;
use deedlog_proto::deals::v1 as deals;
use deedlog_proto::deals::v1::deals_service_client::DealsServiceClient;
use deedlog_proto::properties::v1 as props;
use deedlog_proto::properties::v1::properties_service_client::PropertiesServiceClient;
use deedlog_proto::tenancy::v1 as tenancy;
use deedlog_proto::tenancy::v1::tenancy_service_client::TenancyServiceClient;
use std::net::SocketAddr;
use tonic::Request;
use uuid::Uuid;

pub const SLUG: &str = "demo";
pub const ADMIN_EMAIL: &str = "anna@demo.deedlog.example";
pub const AGENT_EMAIL: &str = "ben@demo.deedlog.example";
pub const PASSWORD: &str = "deedlog-demo-password";

const NAMESPACE: Uuid = Uuid::from_u128(0x6465_6d6f_0000_7000_8000_0000_0000_0001);

/// A fixed command id per demo step.
fn id(step: &str) -> Uuid {
    Uuid::new_v5(&NAMESPACE, step.as_bytes())
}

fn command(step: &str) -> Option<CommandOptions> {
    Some(CommandOptions {
        command_id: id(step).to_string(),
        ..CommandOptions::default()
    })
}

fn authed<T>(token: &str, message: T) -> anyhow::Result<Request<T>> {
    let mut request = Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse()?);
    Ok(request)
}

fn eur(minor: i64) -> Option<Money> {
    Some(Money {
        amount_minor: minor,
        currency: "EUR".into(),
    })
}

const STREETS: [(&str, &str, &str, i64); 4] = [
    ("Lindenstraße 5", "10969", "Berlin", 45_000_000),
    ("Elbchaussee 112", "22763", "Hamburg", 189_000_000),
    ("Maximilianstraße 21", "80539", "München", 98_000_000),
    ("Königsallee 60", "40212", "Düsseldorf", 67_500_000),
];

/// Loads the demo through the services listening at the given addresses.
pub async fn seed(
    tenancy_addr: SocketAddr,
    properties_addr: SocketAddr,
    deals_addr: SocketAddr,
    communications_addr: SocketAddr,
) -> anyhow::Result<()> {
    let url = |a: SocketAddr| format!("http://{a}");
    let mut tenancy = TenancyServiceClient::connect(url(tenancy_addr)).await?;
    tenancy
        .register_tenant(tenancy::RegisterTenantRequest {
            command: command("register"),
            name: "Demo Immobilien".into(),
            slug: SLUG.into(),
            admin_email: ADMIN_EMAIL.into(),
            admin_display_name: "Anna Berg".into(),
            admin_password: PASSWORD.into(),
        })
        .await
        .context("register the demo tenant")?;
    let admin = login(&mut tenancy, ADMIN_EMAIL).await?;
    let invited = tenancy
        .invite_user(authed(
            &admin,
            tenancy::InviteUserRequest {
                command: command("invite-agent"),
                email: AGENT_EMAIL.into(),
                display_name: "Ben Lund".into(),
                role: tenancy::Role::Agent.into(),
            },
        )?)
        .await
        .context("invite the demo agent")?
        .into_inner();
    tenancy
        .accept_invitation(tenancy::AcceptInvitationRequest {
            command: command("accept-agent"),
            invitation_token: invited.invitation_token,
            password: PASSWORD.into(),
        })
        .await
        .context("activate the demo agent")?;
    let agent = login(&mut tenancy, AGENT_EMAIL).await?;

    let mut properties = PropertiesServiceClient::connect(url(properties_addr)).await?;
    let mut contacts = CommunicationsServiceClient::connect(url(communications_addr)).await?;
    let mut pipeline = DealsServiceClient::connect(url(deals_addr)).await?;
    for (n, (street, postal_code, city, price)) in STREETS.iter().enumerate() {
        let property = properties
            .create_property(authed(
                &agent,
                props::CreatePropertyRequest {
                    command: command(&format!("property-{n}")),
                    address: Some(props::Address {
                        street: (*street).into(),
                        postal_code: (*postal_code).into(),
                        city: (*city).into(),
                        country: "DE".into(),
                        latitude: None,
                        longitude: None,
                    }),
                    kind: props::PropertyKind::Apartment.into(),
                    asking_price: eur(*price),
                    tags: vec!["demo".into()],
                    ..Default::default()
                },
            )?)
            .await
            .context("create a demo property")?
            .into_inner();
        let contact = contacts
            .create_contact(authed(
                &agent,
                comms::CreateContactRequest {
                    command: command(&format!("contact-{n}")),
                    contact_id: String::new(),
                    details: Some(comms::ContactDetails {
                        name: format!("Buyer {}", n + 1),
                        email: format!("buyer{}@example.com", n + 1),
                        phone: format!("+4930123456{n}"),
                        address: None,
                    }),
                },
            )?)
            .await
            .context("create a demo contact")?
            .into_inner();
        contacts
            .grant_consent(authed(
                &agent,
                comms::GrantConsentRequest {
                    command: command(&format!("consent-{n}")),
                    contact_id: contact.record_id.clone(),
                    channel: comms::Channel::Email.into(),
                    lawful_basis: comms::LawfulBasis::Consent.into(),
                    source: "demo web form".into(),
                },
            )?)
            .await
            .context("grant demo consent")?;
        pipeline
            .open_deal(authed(
                &agent,
                deals::OpenDealRequest {
                    command: command(&format!("deal-{n}")),
                    property_id: property.record_id,
                    buyer_contact_id: contact.record_id,
                    offer: eur(*price - 1_000_000),
                    commission: eur(*price * 3 / 100),
                    ..Default::default()
                },
            )?)
            .await
            .context("open a demo deal")?;
    }
    Ok(())
}

async fn login(
    tenancy: &mut TenancyServiceClient<tonic::transport::Channel>,
    email: &str,
) -> anyhow::Result<String> {
    Ok(tenancy
        .login(tenancy::LoginRequest {
            tenant_slug: SLUG.into(),
            email: email.into(),
            password: PASSWORD.into(),
        })
        .await
        .with_context(|| format!("sign in as {email}"))?
        .into_inner()
        .access_token)
}
