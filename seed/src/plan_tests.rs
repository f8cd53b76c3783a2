//! The plan's promises: the same inputs give the same commands and ids;
//! every stage is reached; prices, postal codes and moves are plausible
//! and legal under the domain's rules.

use super::catalog::CITIES;
use super::plan::{self, Action, Expect, Kind, Listing, Stage, TenantPlan};
use super::story::story;
use proptest::prelude::*;
use std::collections::{BTreeSet, HashMap, HashSet};

fn one_tenant(seed: u64, properties: u64) -> TenantPlan {
    plan::tenants(seed, 1, properties).remove(0)
}

/// The listing moves of the spec: draft → active → reserved →
/// under_contract → sold; active, reserved or under_contract → withdrawn;
/// withdrawn → active.
fn listing_move_allowed(from: Listing, to: Listing) -> bool {
    use Listing::*;
    matches!(
        (from, to),
        (Draft, Active)
            | (Active, Reserved)
            | (Reserved, UnderContract)
            | (UnderContract, Sold)
            | (Active | Reserved | UnderContract, Withdrawn)
            | (Withdrawn, Active)
    )
}

/// Checks one story against the rules the services apply; returns why not.
fn check_story(tenant: &TenantPlan, index: u64) -> Result<(), String> {
    let s = story(tenant, index);
    let mut listing = None;
    let mut stage = None;
    let mut outbound = 0;
    let mut queued = HashSet::new();
    let mut paused = false;
    for step in &s.steps {
        match &step.action {
            Action::CreateProperty {
                address,
                asking_price,
                kind,
                attributes,
                ..
            } => {
                let city = CITIES
                    .iter()
                    .find(|c| c.name == address.city)
                    .ok_or("unknown city")?;
                if !city.postal_codes.contains(&address.postal_code) {
                    return Err(format!("{} is not in {}", address.postal_code, city.name));
                }
                if address.country != city.country.code() {
                    return Err("country of another city".into());
                }
                if !(2_000_000..=6_000_000_000).contains(asking_price) {
                    return Err(format!("asking price {asking_price} cents"));
                }
                if *kind == Kind::Apartment {
                    let area = attributes
                        .living_area_m2
                        .ok_or("an apartment has an area")?;
                    let per_m2 = asking_price / 100 / area;
                    let expected = city.eur_per_m2;
                    if per_m2 < expected / 2 || per_m2 > expected * 2 {
                        return Err(format!("{per_m2} EUR/m² in {}", city.name));
                    }
                }
                if let (Some(rooms), Some(bedrooms)) = (attributes.rooms, attributes.bedrooms) {
                    if bedrooms > rooms {
                        return Err("more bedrooms than rooms".into());
                    }
                }
                listing = Some(Listing::Draft);
            }
            Action::ChangeListingStatus { to, .. } => {
                let from = listing.ok_or("status before the property")?;
                if !listing_move_allowed(from, *to) {
                    return Err(format!("listing {from:?} -> {to:?}"));
                }
                listing = Some(*to);
            }
            Action::ChangeAskingPrice { price, .. }
                if *price <= 0 || listing == Some(Listing::Sold) =>
            {
                return Err("price change refused".into());
            }
            Action::OpenDeal { commission, .. } => {
                if *commission <= 0 || listing.is_none() {
                    return Err("deal without property or commission".into());
                }
                stage = Some(Stage::Lead);
            }
            Action::MoveStage { to, .. } => {
                let from = stage.ok_or("move before the deal")?;
                let i = deedlog_deals_domain::stage::OPEN
                    .iter()
                    .position(|s| *s == from)
                    .ok_or("closed")?;
                if deedlog_deals_domain::stage::OPEN.get(i + 1) != Some(to) {
                    return Err(format!("stage {from:?} -> {to:?}"));
                }
                stage = Some(*to);
            }
            Action::WinDeal { final_price, .. } => {
                if stage != Some(Stage::UnderContract) || *final_price <= 0 {
                    return Err("won from another stage".into());
                }
                stage = Some(Stage::ClosedWon);
            }
            Action::LoseDeal { .. } => {
                if !stage.is_some_and(|s| deedlog_deals_domain::stage::OPEN.contains(&s)) {
                    return Err("lost a closed deal".into());
                }
                stage = Some(Stage::ClosedLost);
            }
            Action::SetOffer { offer, .. } if *offer <= 0 => return Err("offer".into()),
            Action::RecordValuation { value, .. } if *value <= 0 => return Err("valuation".into()),
            Action::SendMessage {
                expect, message, ..
            } => {
                if *expect != Expect::Refused {
                    if paused {
                        return Err("sent while the cadence is paused".into());
                    }
                    outbound += 1;
                }
                if *expect == Expect::Queued {
                    queued.insert(*message);
                }
            }
            Action::RecordDelivery { message, .. } if !queued.contains(message) => {
                return Err("report on a message that was not queued".into());
            }
            Action::RecordReply { in_reply_to, .. } => {
                if !queued.contains(in_reply_to) {
                    return Err("reply to a message that was not queued".into());
                }
                paused = true;
            }
            Action::ResumeCadence { .. } => paused = false,
            _ => {}
        }
    }
    if outbound > 3 {
        return Err(format!("{outbound} messages to one contact"));
    }
    if stage != s.deal || listing != Some(s.listing) {
        return Err("the story ends elsewhere than it says".into());
    }
    if s.deal == Some(Stage::ClosedWon) && s.listing != Listing::Sold {
        return Err("won but not sold".into());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn the_same_inputs_give_the_same_commands_and_ids(
        seed in any::<u64>(), tenants in 1u32..6, extra in 0u64..500, index in 0u64..100,
    ) {
        let properties = u64::from(tenants) + extra;
        let a = plan::tenants(seed, tenants, properties);
        let b = plan::tenants(seed, tenants, properties);
        for (x, y) in a.iter().zip(&b) {
            prop_assert_eq!(&x.slug, &y.slug);
            prop_assert_eq!(&x.agents, &y.agents);
            prop_assert_eq!(story(x, index), story(y, index));
        }
        prop_assert_eq!(a.iter().map(|t| t.properties).sum::<u64>(), properties);
        let other = plan::tenants(seed.wrapping_add(1), tenants, properties);
        prop_assert_ne!(story(&a[0], index).property, story(&other[0], index).property);
    }

    #[test]
    fn every_story_keeps_to_the_rules(seed in any::<u64>(), index in 0u64..5_000) {
        let tenant = one_tenant(seed, 5_000);
        if let Err(why) = check_story(&tenant, index) {
            prop_assert!(false, "story {} of seed {}: {}", index, seed, why);
        }
    }

    #[test]
    fn a_tenant_with_40_properties_has_deals_at_every_stage(
        seed in any::<u64>(), tenants in 1u32..8, pick in any::<u32>(), extra in 0u64..200,
    ) {
        let properties = 40 * u64::from(tenants) + extra;
        let plans = plan::tenants(seed, tenants, properties);
        let tenant = &plans[(pick % tenants) as usize];
        prop_assert!(tenant.properties >= 40);
        let stages: BTreeSet<Stage> =
            (0..tenant.properties).filter_map(|i| story(tenant, i).deal).collect();
        prop_assert_eq!(stages.len(), 8, "{:?}", stages);
    }

    #[test]
    fn tenants_have_valid_distinct_slugs_and_users(seed in any::<u64>(), tenants in 1u32..40) {
        let plans = plan::tenants(seed, tenants, u64::from(tenants) * 3);
        let slugs: HashSet<&str> = plans.iter().map(|t| t.slug.as_str()).collect();
        prop_assert_eq!(slugs.len(), plans.len());
        for t in &plans {
            prop_assert!((3..=40).contains(&t.slug.len()));
            prop_assert!(t.slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
            let emails: HashSet<&str> = t.agents.iter().map(|a| a.email.as_str())
                .chain([t.admin.email.as_str(), t.mailer.email.as_str()]).collect();
            prop_assert_eq!(emails.len(), t.agents.len() + 2);
            prop_assert!((2..=25).contains(&t.agents.len()));
        }
    }
}

#[test]
fn command_ids_are_unique_across_a_tenant_and_stories_are_modest() {
    let tenant = one_tenant(7, 2_000);
    let mut ids = HashSet::new();
    let mut records = HashMap::new();
    let mut steps = 0;
    for index in 0..tenant.properties {
        let s = story(&tenant, index);
        steps += s.steps.len();
        for step in &s.steps {
            assert!(ids.insert(step.command_id), "{step:?} repeats an id");
        }
        assert!(records.insert(s.property, index).is_none());
    }
    let average = steps as f64 / tenant.properties as f64;
    assert!(
        (5.0..=10.0).contains(&average),
        "{average} steps per property"
    );
    assert!(ids.iter().all(|id| !records.contains_key(id)));
}

#[test]
fn deals_are_dealt_seven_in_twenty() {
    for n in 0..200 {
        let counted = (0..n).filter(|i| plan::has_deal(*i)).count() as u64;
        assert_eq!(plan::deals_before(n), counted, "{n}");
    }
    assert_eq!(plan::deals_before(40), 14);
    assert_eq!(plan::agents_for(1), 2);
    assert_eq!(plan::agents_for(10_000), 5);
    assert_eq!(plan::agents_for(1_000_000), 25);
    assert_eq!(plan::slug(super::DEFAULT_SEED, 0), "seed-01");
    assert_eq!(plan::slug(7, 11), "seed-7-12");
}
