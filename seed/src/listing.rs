//! A property as an agent lists it: address, kind, attributes and an asking
//! price that follows the city's price per m², the kind, the building's age
//! and some noise. Integer arithmetic only, so every platform draws the
//! same prices.

use super::catalog::{City, CITIES};
use super::plan::{Address, Attributes, Kind, Source, TenantPlan};
use super::random::Rng;
use super::wording;

/// A drawn property, before it becomes a command.
#[derive(Debug, Clone)]
pub struct Drawn {
    pub city: &'static City,
    pub address: Address,
    pub kind: Kind,
    pub attributes: Attributes,
    pub source: Source,
    pub confidence_pct: u32,
    /// Euro cents, a whole number of thousands of euros.
    pub asking_price: i64,
    pub tags: Vec<&'static str>,
}

/// Rounds cents to whole thousands of euros, as asking prices are.
pub fn round_thousands(cents: i64) -> i64 {
    ((cents + 50_000) / 100_000).max(1) * 100_000
}

/// Most properties are in the agency's home city; the rest anywhere, by population.
pub fn draw(rng: &mut Rng, tenant: &TenantPlan) -> Drawn {
    let city = if rng.chance(70) {
        &CITIES[tenant.home]
    } else {
        &CITIES[rng.weighted(&super::catalog::city_weights())]
    };
    let address = address(rng, city);
    let kind = [
        Kind::Apartment,
        Kind::House,
        Kind::MultiFamily,
        Kind::Land,
        Kind::Commercial,
    ][rng.weighted(&[55, 22, 7, 6, 10])];
    let (attributes, asking_price) = attributes_and_price(rng, city, kind);
    let (source, confidence_pct) = match rng.below(10) {
        0..=6 => (Source::Manual, 100),
        7 | 8 => (Source::Import, 90),
        _ => (
            Source::Provider(rng.pick(wording::VALUATION_PROVIDERS)),
            rng.between(70, 95) as u32,
        ),
    };
    let mut tags: Vec<&'static str> = tenant.tag.into_iter().collect();
    for _ in 0..rng.below(4) {
        let tag = rng.pick(wording::TAGS);
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    Drawn {
        city,
        address,
        kind,
        attributes,
        source,
        confidence_pct,
        asking_price,
        tags,
    }
}

/// A street address in `city`, with coordinates near its centre.
pub fn address(rng: &mut Rng, city: &'static City) -> Address {
    let street = rng.pick(city.country.streets());
    let number = rng.between(1, 140);
    let letter = match rng.below(12) {
        0 => "a",
        1 => "b",
        _ => "",
    };
    Address {
        street: format!("{street} {number}{letter}"),
        postal_code: rng.pick(city.postal_codes),
        city: city.name,
        country: city.country.code(),
        // Within about 5 km of the centre, to four decimals.
        latitude: city.latitude + rng.between(-450, 450) as f64 / 10_000.0,
        longitude: city.longitude + rng.between(-700, 700) as f64 / 10_000.0,
    }
}

/// The building's year and how its age moves the price (percent).
fn year_built(rng: &mut Rng) -> (i64, i64) {
    match rng.weighted(&[15, 8, 30, 22, 17, 8]) {
        0 => (rng.between(1880, 1918), 105),
        1 => (rng.between(1919, 1949), 95),
        2 => (rng.between(1950, 1979), 85),
        3 => (rng.between(1980, 1999), 92),
        4 => (rng.between(2000, 2019), 105),
        _ => (rng.between(2020, 2025), 125),
    }
}

fn attributes_and_price(rng: &mut Rng, city: &City, kind: Kind) -> (Attributes, i64) {
    let per_m2 = city.eur_per_m2;
    let noise = rng.between(85, 118);
    let (year, age_pct) = year_built(rng);
    let (attributes, euros) = match kind {
        Kind::Apartment => {
            let rooms = 1 + rng.weighted(&[10, 30, 35, 18, 7]) as i64;
            let area = rooms * 22 + 8 + rng.between(-8, 15);
            let attributes = Attributes {
                rooms: Some(rooms),
                bedrooms: (rooms > 1).then_some(rooms - 1),
                bathrooms: Some(1 + i64::from(rooms >= 4 && rng.chance(50))),
                living_area_m2: Some(area),
                plot_area_m2: None,
                year_built: Some(year),
            };
            (attributes, area * per_m2 * age_pct / 100)
        }
        Kind::House => {
            let rooms = rng.between(4, 8);
            let area = rooms * 25 + rng.between(0, 40);
            let plot = rng.between(250, 1_200);
            let attributes = Attributes {
                rooms: Some(rooms),
                bedrooms: Some(rooms - 2),
                bathrooms: Some(rng.between(1, 3)),
                living_area_m2: Some(area),
                plot_area_m2: Some(plot),
                year_built: Some(year),
            };
            let building = area * per_m2 * 92 / 100 * age_pct / 100;
            (attributes, building + plot * per_m2 * 12 / 100)
        }
        Kind::MultiFamily => {
            let units = rng.between(3, 12);
            let area = units * rng.between(55, 80);
            let attributes = Attributes {
                rooms: Some(units * 3),
                bedrooms: Some(units * 2),
                bathrooms: Some(units),
                living_area_m2: Some(area),
                plot_area_m2: Some(rng.between(400, 2_000)),
                year_built: Some(year),
            };
            (attributes, area * per_m2 * 78 / 100 * age_pct / 100)
        }
        Kind::Land => {
            let plot = rng.between(400, 5_000);
            let attributes = Attributes {
                plot_area_m2: Some(plot),
                ..Attributes::default()
            };
            (attributes, plot * per_m2 * 18 / 100)
        }
        Kind::Commercial => {
            let area = [
                rng.between(60, 200),
                rng.between(200, 600),
                rng.between(600, 1_200),
            ][rng.weighted(&[60, 30, 10])];
            let attributes = Attributes {
                rooms: Some((area / 40).clamp(2, 20)),
                living_area_m2: Some(area),
                year_built: Some(year),
                ..Attributes::default()
            };
            (attributes, area * per_m2 * 70 / 100 * age_pct / 100)
        }
    };
    let cents = (euros * noise / 100).max(20_000) * 100;
    (attributes, round_thousands(cents))
}
