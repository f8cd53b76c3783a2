//! A strict reader of the Prometheus text exposition format, so tests can
//! say "`/metrics` parses" and then ask for a series by name and labels.

use std::collections::BTreeMap;

/// One sample line: `name{label="value",…} value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// Every sample of `text`; an error names the first line that is not
/// valid exposition format.
pub fn parse(text: &str) -> Result<Vec<Sample>, String> {
    let mut samples = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let fail = |why: &str| format!("line {}: {why}: {line:?}", number + 1);
        if line.is_empty() || line == "# EOF" {
            continue;
        }
        if let Some(comment) = line.strip_prefix("# ") {
            let mut words = comment.splitn(3, ' ');
            match (words.next(), words.next(), words.next()) {
                (Some("TYPE"), Some(name), Some(kind)) if valid_name(name) => {
                    let known = [
                        "counter",
                        "gauge",
                        "histogram",
                        "summary",
                        "unknown",
                        "info",
                        "stateset",
                        "gaugehistogram",
                    ];
                    if !known.contains(&kind) {
                        return Err(fail("unknown metric type"));
                    }
                }
                (Some("HELP" | "UNIT"), Some(name), _) if valid_name(name) => {}
                _ => return Err(fail("a comment that is neither HELP, TYPE nor UNIT")),
            }
            continue;
        }
        let (series, value) = line.rsplit_once(' ').ok_or_else(|| fail("no value"))?;
        let value = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            other => other
                .parse()
                .map_err(|_| fail("a value that is no number"))?,
        };
        let (name, labels) = match series.split_once('{') {
            None => (series, BTreeMap::new()),
            Some((name, rest)) => {
                let body = rest
                    .strip_suffix('}')
                    .ok_or_else(|| fail("unclosed labels"))?;
                (
                    name,
                    labels_of(body).ok_or_else(|| fail("malformed labels"))?,
                )
            }
        };
        if !valid_name(name) {
            return Err(fail("an invalid metric name"));
        }
        samples.push(Sample {
            name: name.to_owned(),
            labels,
            value,
        });
    }
    Ok(samples)
}

/// The samples named `name` whose labels include every pair of `labels`.
pub fn find<'a>(samples: &'a [Sample], name: &str, labels: &[(&str, &str)]) -> Vec<&'a Sample> {
    samples
        .iter()
        .filter(|s| {
            s.name == name
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .collect()
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn labels_of(mut body: &str) -> Option<BTreeMap<String, String>> {
    let mut labels = BTreeMap::new();
    while !body.is_empty() {
        let (key, rest) = body.split_once("=\"")?;
        if !valid_name(key) {
            return None;
        }
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            match chars.next()? {
                (i, '"') => break i,
                (_, '\\') => match chars.next()?.1 {
                    'n' => value.push('\n'),
                    other => value.push(other),
                },
                (_, c) => value.push(c),
            }
        };
        labels.insert(key.to_owned(), value);
        body = &rest[end + 1..];
        body = body.strip_prefix(',').unwrap_or(body);
    }
    Some(labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_and_labels_are_read() {
        let text = "# HELP x_total Things.\n# TYPE x_total counter\n\
                    x_total{a=\"1\",b=\"q\\\"uote\"} 3\nup 1\nh_bucket{le=\"+Inf\"} 2\n# EOF\n";
        let samples = parse(text).expect("valid");
        assert_eq!(samples.len(), 3);
        assert_eq!(samples[0].labels["b"], "q\"uote");
        assert_eq!(find(&samples, "x_total", &[("a", "1")]).len(), 1);
        assert_eq!(find(&samples, "x_total", &[("a", "2")]).len(), 0);
    }

    #[test]
    fn malformed_lines_are_named() {
        for bad in [
            "x 1 2 3",
            "9x 1",
            "x{a=1} 1",
            "x{a=\"1\" 1",
            "x one",
            "# TYPE x colour",
            "# whatever",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} parsed");
        }
    }
}
