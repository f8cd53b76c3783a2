//! Where the seeded properties are: German and Austrian cities with real
//! postal codes, a plausible asking price per m² for an apartment (2024
//! levels, rounded), the city centre's coordinates, and street names.

/// The country of a city, which decides postal-code length, phone prefix,
/// time zone and street style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Country {
    Germany,
    Austria,
}

impl Country {
    /// ISO 3166-1 alpha-2.
    pub fn code(self) -> &'static str {
        match self {
            Country::Germany => "DE",
            Country::Austria => "AT",
        }
    }

    /// Digits in a postal code.
    pub fn postal_code_len(self) -> usize {
        match self {
            Country::Germany => 5,
            Country::Austria => 4,
        }
    }

    /// The IANA time zone an agency of this country works in.
    pub fn time_zone(self) -> &'static str {
        match self {
            Country::Germany => "Europe/Berlin",
            Country::Austria => "Europe/Vienna",
        }
    }

    pub fn streets(self) -> &'static [&'static str] {
        match self {
            Country::Germany => STREETS_DE,
            Country::Austria => STREETS_AT,
        }
    }
}

/// A city properties are listed in.
#[derive(Debug)]
pub struct City {
    pub name: &'static str,
    pub country: Country,
    /// The leading digits every postal code of the city starts with.
    pub prefixes: &'static [&'static str],
    /// Real postal codes of the city.
    pub postal_codes: &'static [&'static str],
    /// Asking price of an average apartment, EUR per m² of living area.
    pub eur_per_m2: i64,
    /// Inhabitants in units of 10,000: how often the city is drawn.
    pub weight: u64,
    pub latitude: f64,
    pub longitude: f64,
}

/// Index of Berlin in [`CITIES`] (the demo's home).
pub const BERLIN: usize = 0;

use Country::{Austria as AT, Germany as DE};

#[rustfmt::skip]
pub static CITIES: [City; 31] = [
    City { name: "Berlin", country: DE, prefixes: &["10", "12", "13", "14"], eur_per_m2: 5_300, weight: 378, latitude: 52.520, longitude: 13.405,
        postal_codes: &["10115", "10117", "10119", "10178", "10243", "10245", "10247", "10405", "10435", "10437", "10439", "10551", "10585", "10623", "10707", "10777", "10827", "10961", "10965", "10967", "10969", "10997", "10999", "12043", "12047", "12049", "12099", "12157", "12163", "12203", "12435", "12555", "13055", "13086", "13187", "13347", "13353", "13403", "13585", "14050", "14163", "14193"] },
    City { name: "Hamburg", country: DE, prefixes: &["20", "21", "22"], eur_per_m2: 5_900, weight: 190, latitude: 53.551, longitude: 9.994,
        postal_codes: &["20095", "20099", "20144", "20146", "20249", "20251", "20253", "20255", "20257", "20259", "20354", "20355", "20357", "20359", "20457", "20459", "21073", "21075", "22041", "22043", "22081", "22083", "22085", "22087", "22089", "22297", "22299", "22301", "22303", "22305", "22335", "22337", "22391", "22393", "22415", "22453", "22525", "22527", "22529", "22587", "22605", "22607", "22609", "22763", "22765", "22767", "22769"] },
    City { name: "München", country: DE, prefixes: &["80", "81"], eur_per_m2: 8_600, weight: 151, latitude: 48.137, longitude: 11.575,
        postal_codes: &["80331", "80333", "80335", "80336", "80337", "80339", "80469", "80538", "80539", "80634", "80636", "80637", "80638", "80639", "80686", "80687", "80689", "80796", "80797", "80798", "80799", "80801", "80802", "80803", "80804", "80805", "80807", "80809", "80933", "80935", "80937", "80939", "80992", "80993", "80995", "80997", "80999", "81241", "81243", "81245", "81247", "81249", "81369", "81371", "81373", "81375", "81377", "81379", "81475", "81476", "81477", "81479", "81539", "81541", "81543", "81545", "81547", "81549", "81667", "81669", "81671", "81673", "81675", "81677", "81679", "81735", "81737", "81739", "81825", "81827", "81829", "81925", "81927", "81929"] },
    City { name: "Köln", country: DE, prefixes: &["50", "51"], eur_per_m2: 4_500, weight: 108, latitude: 50.938, longitude: 6.960,
        postal_codes: &["50667", "50668", "50670", "50672", "50674", "50676", "50677", "50678", "50679", "50733", "50735", "50737", "50739", "50823", "50825", "50827", "50829", "50858", "50859", "50931", "50933", "50935", "50937", "50939", "50968", "50969", "50996", "50997", "50999", "51061", "51063", "51065", "51067", "51069", "51103", "51105", "51107", "51109", "51143", "51145", "51147", "51149"] },
    City { name: "Frankfurt am Main", country: DE, prefixes: &["60", "65"], eur_per_m2: 5_800, weight: 77, latitude: 50.110, longitude: 8.682,
        postal_codes: &["60308", "60311", "60313", "60314", "60316", "60318", "60320", "60322", "60323", "60325", "60326", "60327", "60329", "60385", "60386", "60388", "60389", "60431", "60433", "60435", "60437", "60438", "60439", "60486", "60487", "60488", "60489", "60528", "60529", "60549", "60594", "60596", "60598", "60599", "65929", "65931", "65933", "65934", "65936"] },
    City { name: "Stuttgart", country: DE, prefixes: &["70"], eur_per_m2: 5_000, weight: 63, latitude: 48.776, longitude: 9.183,
        postal_codes: &["70173", "70174", "70176", "70178", "70180", "70182", "70184", "70186", "70188", "70190", "70191", "70192", "70193", "70195", "70197", "70199", "70327", "70329", "70372", "70374", "70376", "70378", "70435", "70437", "70439", "70469", "70499", "70563", "70565", "70567", "70569", "70597", "70599", "70619", "70629"] },
    City { name: "Düsseldorf", country: DE, prefixes: &["40"], eur_per_m2: 4_900, weight: 63, latitude: 51.228, longitude: 6.773,
        postal_codes: &["40210", "40211", "40212", "40213", "40215", "40217", "40219", "40221", "40223", "40225", "40227", "40229", "40231", "40233", "40235", "40237", "40239", "40468", "40470", "40472", "40474", "40476", "40477", "40479", "40489", "40545", "40547", "40549", "40589", "40591", "40593", "40595", "40597", "40599", "40625", "40627", "40629"] },
    City { name: "Leipzig", country: DE, prefixes: &["04"], eur_per_m2: 2_800, weight: 62, latitude: 51.340, longitude: 12.375,
        postal_codes: &["04103", "04105", "04107", "04109", "04129", "04155", "04157", "04158", "04159", "04177", "04178", "04179", "04205", "04207", "04209", "04229", "04249", "04275", "04277", "04279", "04289", "04299", "04315", "04316", "04317", "04318", "04319", "04328", "04329", "04347", "04349", "04356", "04357"] },
    City { name: "Dortmund", country: DE, prefixes: &["44"], eur_per_m2: 2_600, weight: 59, latitude: 51.514, longitude: 7.466,
        postal_codes: &["44135", "44137", "44139", "44141", "44143", "44145", "44147", "44149", "44225", "44227", "44229", "44263", "44265", "44267", "44269", "44287", "44289", "44309", "44319", "44328", "44329", "44339", "44357", "44359", "44369", "44379", "44388"] },
    City { name: "Essen", country: DE, prefixes: &["45"], eur_per_m2: 2_400, weight: 58, latitude: 51.456, longitude: 7.012,
        postal_codes: &["45127", "45128", "45130", "45131", "45133", "45134", "45136", "45138", "45139", "45141", "45143", "45144", "45145", "45147", "45149", "45219", "45239", "45257", "45259", "45276", "45277", "45279", "45289", "45307", "45309", "45326", "45327", "45329", "45355", "45356", "45357", "45359"] },
    City { name: "Bremen", country: DE, prefixes: &["28"], eur_per_m2: 3_000, weight: 57, latitude: 53.079, longitude: 8.802,
        postal_codes: &["28195", "28197", "28199", "28201", "28203", "28205", "28207", "28209", "28211", "28213", "28215", "28217", "28219", "28237", "28239", "28259", "28277", "28279", "28307", "28309", "28325", "28327", "28329", "28355", "28357", "28359", "28717", "28719", "28755", "28757", "28759", "28777", "28779"] },
    City { name: "Dresden", country: DE, prefixes: &["01"], eur_per_m2: 2_900, weight: 56, latitude: 51.050, longitude: 13.738,
        postal_codes: &["01067", "01069", "01097", "01099", "01108", "01109", "01127", "01129", "01139", "01156", "01157", "01159", "01169", "01187", "01189", "01217", "01219", "01237", "01239", "01257", "01259", "01277", "01279", "01307", "01309", "01324", "01326", "01328"] },
    City { name: "Hannover", country: DE, prefixes: &["30"], eur_per_m2: 3_500, weight: 54, latitude: 52.376, longitude: 9.732,
        postal_codes: &["30159", "30161", "30163", "30165", "30167", "30169", "30171", "30173", "30175", "30177", "30179", "30419", "30449", "30451", "30453", "30455", "30457", "30459", "30519", "30521", "30539", "30559", "30625", "30627", "30629", "30655", "30657", "30659", "30669"] },
    City { name: "Nürnberg", country: DE, prefixes: &["90"], eur_per_m2: 4_000, weight: 52, latitude: 49.452, longitude: 11.077,
        postal_codes: &["90402", "90403", "90408", "90409", "90411", "90419", "90425", "90427", "90429", "90431", "90439", "90441", "90443", "90449", "90451", "90453", "90455", "90459", "90461", "90469", "90471", "90473", "90475", "90478", "90480", "90482", "90489", "90491"] },
    City { name: "Bonn", country: DE, prefixes: &["53"], eur_per_m2: 4_100, weight: 33, latitude: 50.737, longitude: 7.098,
        postal_codes: &["53111", "53113", "53115", "53117", "53119", "53121", "53123", "53125", "53127", "53129", "53173", "53175", "53177", "53179", "53225", "53227", "53229"] },
    City { name: "Münster", country: DE, prefixes: &["48"], eur_per_m2: 4_500, weight: 32, latitude: 51.961, longitude: 7.626,
        postal_codes: &["48143", "48145", "48147", "48149", "48151", "48153", "48155", "48157", "48159", "48161", "48163", "48165", "48167"] },
    City { name: "Karlsruhe", country: DE, prefixes: &["76"], eur_per_m2: 4_200, weight: 31, latitude: 49.007, longitude: 8.404,
        postal_codes: &["76131", "76133", "76135", "76137", "76139", "76149", "76185", "76187", "76189", "76199", "76227", "76228", "76229"] },
    City { name: "Augsburg", country: DE, prefixes: &["86"], eur_per_m2: 4_400, weight: 30, latitude: 48.370, longitude: 10.898,
        postal_codes: &["86150", "86152", "86153", "86154", "86156", "86157", "86159", "86161", "86163", "86165", "86167", "86169", "86179", "86199"] },
    City { name: "Wiesbaden", country: DE, prefixes: &["65"], eur_per_m2: 4_500, weight: 28, latitude: 50.078, longitude: 8.240,
        postal_codes: &["65183", "65185", "65187", "65189", "65191", "65193", "65195", "65197", "65199", "65201", "65203", "65205", "65207"] },
    City { name: "Kiel", country: DE, prefixes: &["24"], eur_per_m2: 3_300, weight: 25, latitude: 54.323, longitude: 10.123,
        postal_codes: &["24103", "24105", "24106", "24107", "24109", "24111", "24113", "24114", "24116", "24118", "24143", "24145", "24146", "24147", "24148", "24149", "24159"] },
    City { name: "Freiburg im Breisgau", country: DE, prefixes: &["79"], eur_per_m2: 5_700, weight: 23, latitude: 47.999, longitude: 7.842,
        postal_codes: &["79098", "79100", "79102", "79104", "79106", "79108", "79110", "79111", "79112", "79114", "79115", "79117"] },
    City { name: "Mainz", country: DE, prefixes: &["55"], eur_per_m2: 4_600, weight: 22, latitude: 49.993, longitude: 8.247,
        postal_codes: &["55116", "55118", "55120", "55122", "55124", "55126", "55127", "55128", "55129", "55130", "55131"] },
    City { name: "Rostock", country: DE, prefixes: &["18"], eur_per_m2: 3_400, weight: 21, latitude: 54.092, longitude: 12.099,
        postal_codes: &["18055", "18057", "18059", "18069", "18106", "18107", "18109", "18119", "18146", "18147"] },
    City { name: "Potsdam", country: DE, prefixes: &["14"], eur_per_m2: 5_000, weight: 18, latitude: 52.391, longitude: 13.064,
        postal_codes: &["14467", "14469", "14471", "14473", "14476", "14478", "14480", "14482"] },
    City { name: "Heidelberg", country: DE, prefixes: &["69"], eur_per_m2: 5_100, weight: 16, latitude: 49.399, longitude: 8.672,
        postal_codes: &["69115", "69117", "69118", "69120", "69121", "69123", "69124", "69126"] },
    City { name: "Regensburg", country: DE, prefixes: &["93"], eur_per_m2: 4_700, weight: 15, latitude: 49.013, longitude: 12.102,
        postal_codes: &["93047", "93049", "93051", "93053", "93055", "93057", "93059"] },
    City { name: "Wien", country: AT, prefixes: &["1"], eur_per_m2: 6_000, weight: 200, latitude: 48.208, longitude: 16.373,
        postal_codes: &["1010", "1020", "1030", "1040", "1050", "1060", "1070", "1080", "1090", "1100", "1110", "1120", "1130", "1140", "1150", "1160", "1170", "1180", "1190", "1200", "1210", "1220", "1230"] },
    City { name: "Graz", country: AT, prefixes: &["80"], eur_per_m2: 3_900, weight: 30, latitude: 47.071, longitude: 15.439,
        postal_codes: &["8010", "8020", "8036", "8041", "8042", "8043", "8044", "8045", "8051", "8052", "8053", "8054", "8055"] },
    City { name: "Linz", country: AT, prefixes: &["40"], eur_per_m2: 3_800, weight: 21, latitude: 48.306, longitude: 14.286,
        postal_codes: &["4020", "4030", "4040"] },
    City { name: "Salzburg", country: AT, prefixes: &["50"], eur_per_m2: 6_500, weight: 16, latitude: 47.809, longitude: 13.055,
        postal_codes: &["5020", "5023", "5026"] },
    City { name: "Innsbruck", country: AT, prefixes: &["60"], eur_per_m2: 6_300, weight: 13, latitude: 47.269, longitude: 11.404,
        postal_codes: &["6020", "6080"] },
];

/// Each city's weight, in [`CITIES`] order, for drawing a city.
pub fn city_weights() -> [u64; 31] {
    let mut weights = [0; 31];
    for (weight, city) in weights.iter_mut().zip(CITIES.iter()) {
        *weight = city.weight;
    }
    weights
}

const STREETS_DE: &[&str] = &[
    "Hauptstraße",
    "Bahnhofstraße",
    "Schillerstraße",
    "Goethestraße",
    "Gartenstraße",
    "Lindenstraße",
    "Kirchstraße",
    "Bergstraße",
    "Schulstraße",
    "Ringstraße",
    "Mozartstraße",
    "Beethovenstraße",
    "Friedrichstraße",
    "Parkstraße",
    "Waldstraße",
    "Rosenweg",
    "Am Markt",
    "Lessingstraße",
    "Wilhelmstraße",
    "Kantstraße",
    "Uhlandstraße",
    "Eichendorffstraße",
    "Heinestraße",
    "Birkenweg",
    "Ahornweg",
    "Feldstraße",
    "Mühlenweg",
    "Bismarckstraße",
    "Kaiserstraße",
    "Luisenstraße",
    "Moltkestraße",
    "Steinstraße",
    "Brunnenstraße",
    "Blumenstraße",
    "Am Stadtpark",
    "Humboldtstraße",
    "Herderstraße",
    "Rathausplatz",
    "Marktstraße",
    "Kastanienallee",
];

const STREETS_AT: &[&str] = &[
    "Hauptplatz",
    "Bahnhofstraße",
    "Kirchengasse",
    "Schulgasse",
    "Mozartgasse",
    "Lindengasse",
    "Herrengasse",
    "Neubaugasse",
    "Burggasse",
    "Annagasse",
    "Praterstraße",
    "Landstraßer Hauptstraße",
    "Schönbrunner Straße",
    "Mariahilfer Straße",
    "Josefstädter Straße",
    "Brunnengasse",
    "Kaiserstraße",
    "Gartengasse",
    "Rathausplatz",
    "Goethegasse",
    "Schillerplatz",
    "Radetzkystraße",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_postal_code_fits_its_city_and_country() {
        for city in &CITIES {
            assert!(!city.postal_codes.is_empty(), "{}", city.name);
            for code in city.postal_codes {
                assert_eq!(code.len(), city.country.postal_code_len(), "{code}");
                assert!(code.bytes().all(|b| b.is_ascii_digit()), "{code}");
                assert!(
                    city.prefixes.iter().any(|p| code.starts_with(p)),
                    "{code} is not a postal code of {}",
                    city.name
                );
            }
            assert!((1_000..=15_000).contains(&city.eur_per_m2), "{}", city.name);
            assert!(city.weight > 0);
        }
        assert_eq!(CITIES[BERLIN].name, "Berlin");
    }
}
