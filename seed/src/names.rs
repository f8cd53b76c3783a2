//! Who the seeded people are: first and last names common in Germany and
//! Austria, email domains, phone numbers and agency names.
//!
//! Every email domain is under `.example` (RFC 2606), so no seeded address
//! can ever reach a real mailbox, even if a mail provider were connected.

use super::catalog::Country;
use super::random::Rng;

const FIRST_NAMES: &[&str] = &[
    "Anna",
    "Lena",
    "Lea",
    "Hannah",
    "Mia",
    "Emma",
    "Sophie",
    "Marie",
    "Laura",
    "Julia",
    "Sarah",
    "Katharina",
    "Johanna",
    "Clara",
    "Paula",
    "Charlotte",
    "Nina",
    "Sabine",
    "Petra",
    "Monika",
    "Lukas",
    "Leon",
    "Finn",
    "Jonas",
    "Paul",
    "Felix",
    "Maximilian",
    "Elias",
    "Noah",
    "Ben",
    "Tim",
    "Jan",
    "Tobias",
    "Stefan",
    "Michael",
    "Thomas",
    "Andreas",
    "Markus",
    "Florian",
    "Alexander",
    "Mehmet",
    "Emre",
    "Piotr",
    "Jörg",
    "Jürgen",
    "Käthe",
];

const LAST_NAMES: &[&str] = &[
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Schäfer",
    "Koch",
    "Bauer",
    "Richter",
    "Klein",
    "Wolf",
    "Schröder",
    "Neumann",
    "Schwarz",
    "Zimmermann",
    "Braun",
    "Krüger",
    "Hofmann",
    "Hartmann",
    "Lange",
    "Schmitt",
    "Werner",
    "Schmitz",
    "Krause",
    "Meier",
    "Lehmann",
    "Schmid",
    "Schulze",
    "Maier",
    "Köhler",
    "Herrmann",
    "König",
    "Walter",
    "Huber",
    "Kaiser",
    "Fuchs",
    "Peters",
    "Lang",
    "Scholz",
    "Möller",
    "Weiß",
    "Jung",
    "Hahn",
    "Gruber",
    "Yilmaz",
    "Nowak",
    "Kowalski",
    "Demir",
    "Öztürk",
];

const EMAIL_DOMAINS_DE: &[&str] = &[
    "web.example",
    "gmx.example",
    "mail.example",
    "t-online.example",
    "posteo.example",
    "outlook.example",
    "icloud.example",
];
const EMAIL_DOMAINS_AT: &[&str] = &[
    "gmx.example",
    "aon.example",
    "mail.example",
    "outlook.example",
];

/// A made-up person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub first: &'static str,
    pub last: &'static str,
}

impl Person {
    pub fn draw(rng: &mut Rng) -> Self {
        Self {
            first: rng.pick(FIRST_NAMES),
            last: rng.pick(LAST_NAMES),
        }
    }

    pub fn name(&self) -> String {
        format!("{} {}", self.first, self.last)
    }

    /// `first.last` in ASCII, as people spell it in an address.
    pub fn local_part(&self) -> String {
        format!("{}.{}", ascii(self.first), ascii(self.last))
    }

    /// A private address at a common provider's (`.example`) domain; `n`
    /// tells namesakes apart.
    pub fn private_email(&self, rng: &mut Rng, country: Country, n: u64) -> String {
        let domain = match country {
            Country::Germany => rng.pick(EMAIL_DOMAINS_DE),
            Country::Austria => rng.pick(EMAIL_DOMAINS_AT),
        };
        format!("{}{}@{domain}", self.local_part(), n % 1000)
    }
}

/// A mobile number in E.164 with the country's mobile prefixes.
pub fn mobile_phone(rng: &mut Rng, country: Country) -> String {
    match country {
        Country::Germany => {
            let prefix = rng.pick(&[
                "151", "152", "157", "160", "170", "171", "172", "176", "177",
            ]);
            format!("+49{prefix}{:08}", rng.below(100_000_000))
        }
        Country::Austria => {
            let prefix = rng.pick(&["660", "664", "676", "699"]);
            format!("+43{prefix}{:07}", rng.below(10_000_000))
        }
    }
}

/// A brokerage's name, drawn from the patterns agencies use.
pub fn agency_name(rng: &mut Rng, city: &str) -> String {
    let a = rng.pick(LAST_NAMES);
    let b = rng.pick(LAST_NAMES);
    match rng.below(7) {
        0 => format!("{a} Immobilien"),
        1 => format!("{a} & {b} Immobilien"),
        2 => format!("Immobilienkontor {city}"),
        3 => format!("{a} Immobilien GmbH"),
        4 => format!("Wohnwert {city}"),
        5 => format!("{a} Real Estate"),
        _ => format!("Maklerhaus {city}"),
    }
}

/// Lowercase ASCII: umlauts and ß as Germans write them in addresses.
pub fn ascii(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for c in text.chars().flat_map(char::to_lowercase) {
        match c {
            'ä' => out.push_str("ae"),
            'ö' => out.push_str("oe"),
            'ü' => out.push_str("ue"),
            'ß' => out.push_str("ss"),
            c if c.is_ascii_alphanumeric() => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_phones_are_well_formed() {
        assert_eq!(ascii("Jörg Weiß-Öztürk"), "joergweissoeztuerk");
        let mut rng = Rng::new(&[1]);
        for n in 0..200 {
            let person = Person::draw(&mut rng);
            let email = person.private_email(&mut rng, Country::Germany, n);
            let (local, domain) = email.split_once('@').expect("one @");
            assert!(local.is_ascii() && !local.is_empty(), "{email}");
            assert!(domain.ends_with(".example"), "{email}");
            for country in [Country::Germany, Country::Austria] {
                let phone = mobile_phone(&mut rng, country);
                let digits = phone.strip_prefix('+').expect("E.164");
                assert!((7..=15).contains(&digits.len()), "{phone}");
                assert!(digits.bytes().all(|b| b.is_ascii_digit()), "{phone}");
            }
        }
    }
}
