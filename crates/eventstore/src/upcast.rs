//! Upcasting: stored events are never rewritten, so an event stored under an
//! older schema version is transformed, step by step, into the current one
//! each time it is read.

use crate::error::Error;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::fmt;

/// Turns a payload of version `n` into version `n + 1`, or says why it cannot.
pub type UpcastStep = Box<dyn Fn(Value) -> Result<Value, String> + Send + Sync>;

/// The upcasters of every event type, keyed by the version they upcast from.
#[derive(Default)]
pub struct Upcasters {
    chains: HashMap<String, BTreeMap<u32, UpcastStep>>,
}

impl fmt::Debug for Upcasters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (event_type, steps) in &self.chains {
            map.entry(event_type, &steps.keys().collect::<Vec<_>>());
        }
        map.finish()
    }
}

impl Upcasters {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers the step from `from_version` to `from_version + 1` of `event_type`.
    pub fn register(
        mut self,
        event_type: &str,
        from_version: u32,
        step: impl Fn(Value) -> Result<Value, String> + Send + Sync + 'static,
    ) -> Self {
        self.chains
            .entry(event_type.to_owned())
            .or_default()
            .insert(from_version, Box::new(step));
        self
    }

    /// The current schema version of `event_type`, if any upcaster knows it.
    pub fn current_version(&self, event_type: &str) -> Option<u32> {
        self.chains
            .get(event_type)
            .and_then(|steps| steps.keys().next_back())
            .map(|last| last + 1)
    }

    /// Brings `payload` from `stored` up to the current version of its type.
    pub fn upcast(
        &self,
        event_type: &str,
        stored: u32,
        payload: String,
    ) -> Result<(u32, String), Error> {
        let Some(steps) = self.chains.get(event_type) else {
            return Ok((stored, payload));
        };
        let current = self.current_version(event_type).unwrap_or(stored);
        if stored >= current {
            return Ok((stored, payload));
        }
        let failure = |from: u32, reason: String| Error::Upcast {
            event_type: event_type.to_owned(),
            from,
            reason,
        };
        let mut value: Value =
            serde_json::from_str(&payload).map_err(|e| failure(stored, e.to_string()))?;
        for version in stored..current {
            let step = steps.get(&version).ok_or_else(|| {
                failure(
                    version,
                    format!("no upcaster from v{version} to v{}", version + 1),
                )
            })?;
            value = step(value).map_err(|reason| failure(version, reason))?;
        }
        let text = serde_json::to_string(&value).map_err(|e| failure(current, e.to_string()))?;
        Ok((current, text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn raw(value: Value) -> String {
        value.to_string()
    }

    fn price_upcasters() -> Upcasters {
        Upcasters::new()
            .register("PriceSet", 1, |mut v| {
                // v1 had a float "price"; v2 has integer minor units and a currency.
                let price = v["price"].as_f64().ok_or("price is missing")?;
                v["amount_minor"] = json!((price * 100.0).round() as i64);
                v["currency"] = json!("EUR");
                v.as_object_mut().ok_or("not an object")?.remove("price");
                Ok(v)
            })
            .register("PriceSet", 2, |mut v| {
                v["source"] = json!("manual");
                Ok(v)
            })
    }

    #[test]
    fn chains_steps_to_the_current_version() {
        let (version, payload) = price_upcasters()
            .upcast("PriceSet", 1, raw(json!({"price": 450000.5})))
            .expect("upcasts");
        assert_eq!(version, 3);
        let value: Value = serde_json::from_str(&payload).expect("valid json");
        assert_eq!(
            value,
            json!({"amount_minor": 45000050, "currency": "EUR", "source": "manual"})
        );
    }

    #[test]
    fn current_and_unknown_types_pass_through() {
        let upcasters = price_upcasters();
        let (v, p) = upcasters
            .upcast("PriceSet", 3, raw(json!({"a": 1})))
            .expect("ok");
        assert_eq!((v, p.as_str()), (3, r#"{"a":1}"#));
        let (v, _) = upcasters.upcast("Other", 1, raw(json!({}))).expect("ok");
        assert_eq!(v, 1);
    }

    #[test]
    fn a_failing_step_names_type_and_version() {
        let error = price_upcasters()
            .upcast("PriceSet", 1, raw(json!({"cost": 1})))
            .expect_err("no price");
        assert_eq!(
            error.to_string(),
            "cannot upcast PriceSet v1: price is missing"
        );
    }

    #[test]
    fn a_missing_step_is_reported() {
        let upcasters = Upcasters::new().register("X", 2, Ok);
        let error = upcasters
            .upcast("X", 1, raw(json!({})))
            .expect_err("gap in chain");
        assert!(
            error.to_string().contains("no upcaster from v1 to v2"),
            "{error}"
        );
    }
}
