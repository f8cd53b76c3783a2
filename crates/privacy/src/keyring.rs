//! The key service: every data key goes through here, wrapped under the
//! master key in the log's `privacy_keys` table (log migration 0005), and
//! kept unwrapped in a bounded cache. Writers seal with it, every reader
//! opens with it (ADR 0035).
//!
//! A destroyed key is permanent, so "destroyed" is cached for good; a live
//! key is cached for `ttl`, after which another process's forgetting is
//! seen. A forgetting event read or appended through this keyring drops
//! the subject's key at once, so a rebuild right after a forget never
//! reads the person back.

use crate::blind_index::IndexKeys;
use crate::catalogue::Catalogue;
use crate::data_key::DataKey;
use crate::error::Error;
use crate::master::{Binding, MasterKey, MasterKeys};
use crate::sealed::{self, KeyState, Place};
use deedlog_kernel::privacy::{erase, field, subject_of, PersonalFields};
use serde_json::Value;
use sqlx::PgPool;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// How many unwrapped keys a process keeps, and for how long.
#[derive(Debug, Clone, Copy)]
pub struct CacheLimits {
    pub entries: usize,
    pub ttl: Duration,
}

/// Where the master key comes from, for [`Keyring::open`].
#[derive(Debug, Clone)]
pub enum MasterSource {
    /// Set in settings (`privacy.master_key`/`_file`); retired keys only unwrap.
    Configured { keys: MasterKeys, setting: String },
    /// Development without a key: one generated once and kept in the
    /// database, which protects nothing against a reader of the database.
    Development,
}

/// An event as a reader holds it, to be opened in place.
pub trait StoredEvent {
    fn tenant(&self) -> Uuid;
    fn stream(&self) -> Uuid;
    fn position(&self) -> u64;
    fn event_type(&self) -> &str;
    fn payload(&self) -> &str;
    fn set_payload(&mut self, payload: String);
}

/// The key service of one process (or one pool of it).
#[derive(Debug, Clone)]
pub struct Keyring {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    pool: PgPool,
    masters: MasterKeys,
    catalogue: Catalogue,
    limits: CacheLimits,
    cache: Mutex<Cache>,
}

#[derive(Debug, Clone)]
enum Entry {
    Live {
        subject: Uuid,
        key: DataKey,
        at: Instant,
    },
    Destroyed,
}

#[derive(Debug, Default)]
struct Cache {
    keys: HashMap<(Uuid, Uuid), Entry>,
    subjects: HashMap<(Uuid, Uuid), Uuid>,
    order: VecDeque<(Uuid, Uuid)>,
}

impl Cache {
    fn get(&self, tenant: Uuid, key_id: Uuid, ttl: Duration) -> Option<KeyState> {
        match self.keys.get(&(tenant, key_id))? {
            Entry::Destroyed => Some(KeyState::Destroyed),
            Entry::Live { key, at, .. } if at.elapsed() < ttl => Some(KeyState::Live(key.clone())),
            Entry::Live { .. } => None,
        }
    }

    fn put(&mut self, tenant: Uuid, key_id: Uuid, entry: Entry, capacity: usize) {
        if capacity == 0 {
            return;
        }
        while self.keys.len() >= capacity {
            let Some(oldest) = self.order.pop_front() else {
                break;
            };
            if let Some(Entry::Live { subject, .. }) = self.keys.remove(&oldest) {
                self.subjects.remove(&(oldest.0, subject));
            }
        }
        if let Entry::Live { subject, .. } = &entry {
            self.subjects.insert((tenant, *subject), key_id);
        }
        if self.keys.insert((tenant, key_id), entry).is_none() {
            self.order.push_back((tenant, key_id));
        }
    }

    fn forget(&mut self, tenant: Uuid, subject: Uuid) {
        if let Some(key_id) = self.subjects.remove(&(tenant, subject)) {
            self.keys.remove(&(tenant, key_id));
        }
    }
}

/// A row of the key table as the key functions return it.
#[derive(sqlx::FromRow)]
struct KeyRow {
    tenant_id: Uuid,
    subject_id: Uuid,
    key_id: Uuid,
    master_key_id: Option<String>,
    wrapped: Option<Vec<u8>>,
}

impl Keyring {
    /// Opens the key service on `pool` (a role with EXECUTE on the key
    /// functions): checks that the master key is the one this database's
    /// keys are wrapped under, or in development takes the database's own.
    pub async fn open(
        pool: PgPool,
        master: MasterSource,
        catalogue: Catalogue,
        limits: CacheLimits,
    ) -> Result<Self, Error> {
        let masters = match master {
            MasterSource::Configured { keys, setting } => {
                let stored: (String, Option<Vec<u8>>) = sqlx::query_as(
                    "SELECT master_key_id, development_key FROM privacy_register_master($1, NULL)",
                )
                .bind(keys.current().id())
                .fetch_one(&pool)
                .await
                .map_err(Error::db("check the master key"))?;
                if keys.by_id(&stored.0).is_none() {
                    return Err(Error::WrongMasterKey {
                        setting,
                        stored: stored.0,
                        given: keys.current().id().to_owned(),
                    });
                }
                keys
            }
            MasterSource::Development => {
                let candidate = MasterKey::generate()?;
                let stored: (String, Option<Vec<u8>>) = sqlx::query_as(
                    "SELECT master_key_id, development_key FROM privacy_register_master($1, $2)",
                )
                .bind(candidate.id())
                .bind(candidate.bytes().as_slice())
                .fetch_one(&pool)
                .await
                .map_err(Error::db("read the development master key"))?;
                let key = stored
                    .1
                    .and_then(|b| <[u8; 32]>::try_from(b).ok())
                    .map(MasterKey::from_bytes)
                    .ok_or_else(|| Error::Setting {
                        setting: "privacy.master_key".to_owned(),
                        reason: format!(
                            "is not set, and this database's data keys are wrapped under master key {}: set privacy.master_key (or privacy.master_key_file) to it",
                            stored.0
                        ),
                    })?;
                tracing::warn!(
                    master_key_id = key.id(),
                    "privacy.master_key is not set: using the development master key kept in the database, which protects personal data from nobody who can read the database (production refuses to start without one)"
                );
                MasterKeys::new(key, Vec::new())
            }
        };
        Ok(Self {
            inner: Arc::new(Inner {
                pool,
                masters,
                catalogue,
                limits,
                cache: Mutex::default(),
            }),
        })
    }

    /// The same keys and cache over another pool (e.g. the reader's role).
    pub fn on_pool(&self, pool: PgPool) -> Self {
        Self {
            inner: Arc::new(Inner {
                pool,
                masters: self.inner.masters.clone(),
                catalogue: self.inner.catalogue.clone(),
                limits: self.inner.limits,
                cache: Mutex::default(),
            }),
        }
    }

    pub fn catalogue(&self) -> &Catalogue {
        &self.inner.catalogue
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.inner
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Seals the personal fields of an event about to be appended, with its
    /// subject's key (created on first use). A no-op for other event types.
    /// A forgetting event drops its subject's key from the cache.
    pub async fn seal(
        &self,
        tenant: Uuid,
        stream: Uuid,
        event_type: &str,
        payload: &mut Value,
    ) -> Result<(), Error> {
        if let Some(subject) = self
            .inner
            .catalogue
            .forgotten_by(event_type, stream, payload)
        {
            self.cache().forget(tenant, subject);
        }
        let Some(spec) = self.inner.catalogue.personal(event_type) else {
            return Ok(());
        };
        let seal_error = |reason: String| Error::Seal {
            event_type: event_type.to_owned(),
            reason,
        };
        let subject = subject_of(spec.subject, &stream.to_string(), payload)
            .and_then(|s| s.parse::<Uuid>().ok())
            .ok_or_else(|| seal_error("its subject's id is missing".to_owned()))?;
        let (key_id, key) = self.key_for(tenant, subject).await?;
        let key = key.ok_or_else(|| seal_error(format!("{subject} was forgotten")))?;
        let place = Place {
            tenant,
            stream,
            event_type,
        };
        sealed::seal(spec, place, key_id, &key, payload)
    }

    /// The subject's key, created when it has none; `None` once destroyed.
    async fn key_for(&self, tenant: Uuid, subject: Uuid) -> Result<(Uuid, Option<DataKey>), Error> {
        let cached = {
            let cache = self.cache();
            cache.subjects.get(&(tenant, subject)).and_then(|key_id| {
                match cache.get(tenant, *key_id, self.inner.limits.ttl) {
                    Some(KeyState::Live(key)) => Some((*key_id, key)),
                    _ => None,
                }
            })
        };
        if let Some((key_id, key)) = cached {
            return Ok((key_id, Some(key)));
        }
        let fresh = DataKey::generate()?;
        let fresh_id = Uuid::new_v4();
        let master = self.inner.masters.current();
        let binding = Binding {
            tenant,
            subject,
            key_id: fresh_id,
        };
        let row: KeyRow = sqlx::query_as(
            "SELECT tenant_id, subject_id, key_id, master_key_id, wrapped FROM privacy_key_for($1, $2, $3, $4, $5)",
        )
        .bind(tenant)
        .bind(subject)
        .bind(fresh_id)
        .bind(master.id())
        .bind(master.wrap(&fresh, &binding)?)
        .fetch_one(&self.inner.pool)
        .await
        .map_err(Error::db("create or read a data key"))?;
        let key_id = row.key_id;
        let state = self.unwrap_row(row);
        match state {
            Ok(entry) => {
                let key = match &entry {
                    Entry::Live { key, .. } => Some(key.clone()),
                    Entry::Destroyed => None,
                };
                self.cache()
                    .put(tenant, key_id, entry, self.inner.limits.entries);
                Ok((key_id, key))
            }
            Err(reason) => Err(Error::Seal {
                event_type: "a personal field".to_owned(),
                reason,
            }),
        }
    }

    fn unwrap_row(&self, row: KeyRow) -> Result<Entry, String> {
        let (Some(wrapped), Some(master_id)) = (row.wrapped, row.master_key_id) else {
            return Ok(Entry::Destroyed);
        };
        let master = self.inner.masters.by_id(&master_id).ok_or_else(|| {
            format!("data key {} is wrapped under master key {master_id}, which this process does not hold", row.key_id)
        })?;
        let binding = Binding {
            tenant: row.tenant_id,
            subject: row.subject_id,
            key_id: row.key_id,
        };
        let key = master.unwrap(&wrapped, &binding).ok_or_else(|| {
            format!(
                "data key {} does not unwrap: the key table row was changed",
                row.key_id
            )
        })?;
        Ok(Entry::Live {
            subject: row.subject_id,
            key,
            at: Instant::now(),
        })
    }

    /// Opens every sealed field of `events` in place (one query for the
    /// keys the cache lacks); forgetting events among them drop their
    /// subject's key first.
    pub async fn open_events<E: StoredEvent>(&self, events: &mut [E]) -> Result<(), Error> {
        let mut sealed = Vec::new();
        let mut legacy = Vec::new();
        for (index, event) in events.iter().enumerate() {
            if self.inner.catalogue.forgets(event.event_type()) {
                let payload: Value = serde_json::from_str(event.payload()).unwrap_or(Value::Null);
                if let Some(subject) =
                    self.inner
                        .catalogue
                        .forgotten_by(event.event_type(), event.stream(), &payload)
                {
                    self.cache().forget(event.tenant(), subject);
                }
            }
            if sealed::may_be_sealed(event.payload()) {
                sealed.push(index);
            } else if let Some(spec) = self.inner.catalogue.personal(event.event_type()) {
                // Written before sealing: personal data in clear (ADR 0035).
                let Ok(payload) = serde_json::from_str::<Value>(event.payload()) else {
                    continue;
                };
                let subject = subject_of(spec.subject, &event.stream().to_string(), &payload)
                    .and_then(|s| s.parse::<Uuid>().ok());
                if let Some(subject) = subject.filter(|_| holds_clear_data(spec, &payload)) {
                    legacy.push((index, payload, spec, subject));
                }
            }
        }
        self.erase_forgotten_legacy(events, legacy).await?;
        if sealed.is_empty() {
            return Ok(());
        }
        let mut missing = HashSet::new();
        {
            let cache = self.cache();
            for index in &sealed {
                let tenant = events[*index].tenant();
                for key_id in sealed::text::key_ids(events[*index].payload()) {
                    if cache.get(tenant, key_id, self.inner.limits.ttl).is_none() {
                        missing.insert((tenant, key_id));
                    }
                }
            }
        }
        let fetched = self.fetch(missing).await?;
        for index in sealed {
            let event = &mut events[index];
            let tenant = event.tenant();
            let lookup = |key_id: Uuid| match fetched.get(&(tenant, key_id)) {
                Some(Ok(Entry::Live { key, .. })) => KeyState::Live(key.clone()),
                Some(Ok(Entry::Destroyed)) => KeyState::Destroyed,
                Some(Err(reason)) => KeyState::Unusable(reason.clone()),
                None => self
                    .cache()
                    .get(tenant, key_id, Duration::MAX)
                    .unwrap_or(KeyState::Unknown),
            };
            let place = Place {
                tenant,
                stream: event.stream(),
                event_type: event.event_type(),
            };
            // Top-level fields as text; anything else (and every failure,
            // reported with its position and field) through the tree.
            if let Some(opened) = sealed::text::open(event.payload(), place, &lookup) {
                event.set_payload(opened);
                continue;
            }
            let mut payload: Value =
                serde_json::from_str(event.payload()).map_err(|_| Error::Damaged {
                    position: event.position(),
                    event_type: event.event_type().to_owned(),
                    path: String::new(),
                    reason: "is in a payload that is not JSON".to_owned(),
                })?;
            sealed::open(&mut payload, place, event.position(), &lookup)?;
            event.set_payload(payload.to_string());
        }
        Ok(())
    }

    /// Erases the clear personal fields of legacy events whose subject was
    /// forgotten, so no reader shows them (the log's bytes keep them).
    async fn erase_forgotten_legacy<E: StoredEvent>(
        &self,
        events: &mut [E],
        legacy: Vec<(usize, Value, &'static PersonalFields, Uuid)>,
    ) -> Result<(), Error> {
        if legacy.is_empty() {
            return Ok(());
        }
        let pairs: HashSet<(Uuid, Uuid)> = legacy
            .iter()
            .map(|(index, _, _, subject)| (events[*index].tenant(), *subject))
            .collect();
        let (tenants, subjects): (Vec<Uuid>, Vec<Uuid>) = pairs.into_iter().unzip();
        let forgotten: HashSet<(Uuid, Uuid)> =
            sqlx::query_as("SELECT tenant_id, subject_id FROM privacy_forgotten_of($1, $2)")
                .bind(&tenants)
                .bind(&subjects)
                .fetch_all(&self.inner.pool)
                .await
                .map_err(Error::db("read which subjects were forgotten"))?
                .into_iter()
                .collect();
        for (index, mut payload, spec, subject) in legacy {
            let event = &mut events[index];
            if forgotten.contains(&(event.tenant(), subject)) {
                erase(spec, &mut payload);
                event.set_payload(payload.to_string());
            }
        }
        Ok(())
    }

    /// Fetches and unwraps keys in one query; caches what unwrapped.
    async fn fetch(
        &self,
        wanted: HashSet<(Uuid, Uuid)>,
    ) -> Result<HashMap<(Uuid, Uuid), Result<Entry, String>>, Error> {
        if wanted.is_empty() {
            return Ok(HashMap::new());
        }
        let (tenants, key_ids): (Vec<Uuid>, Vec<Uuid>) = wanted.into_iter().unzip();
        let rows: Vec<KeyRow> = sqlx::query_as(
            "SELECT tenant_id, subject_id, key_id, master_key_id, wrapped FROM privacy_keys_of($1, $2)",
        )
        .bind(&tenants)
        .bind(&key_ids)
        .fetch_all(&self.inner.pool)
        .await
        .map_err(Error::db("read data keys"))?;
        let mut fetched = HashMap::with_capacity(rows.len());
        let mut cache = self.cache();
        for row in rows {
            let at = (row.tenant_id, row.key_id);
            let entry = self.unwrap_row(row);
            if let Ok(entry) = &entry {
                cache.put(at.0, at.1, entry.clone(), self.inner.limits.entries);
            }
            fetched.insert(at, entry);
        }
        Ok(fetched)
    }

    /// The index keys of `tenants` (each created on first use), for
    /// blind indexes ([`IndexKeys`]).
    pub async fn index_keys(
        &self,
        tenants: impl IntoIterator<Item = Uuid>,
    ) -> Result<IndexKeys, Error> {
        let mut keys = IndexKeys::default();
        for tenant in tenants {
            if keys.0.contains_key(&tenant) {
                continue;
            }
            // The tenant is the subject of its index key; tenants are never forgotten.
            let (_, key) = self.key_for(tenant, tenant).await?;
            let key = key.ok_or(Error::Crypto("find the tenant's index key"))?;
            keys.0.insert(tenant, key);
        }
        Ok(keys)
    }

    /// The blind index of `value` (already normalised by the caller) for
    /// `label` (e.g. `contact.email`) in `tenant` ([`IndexKeys::blind_index`]).
    pub async fn blind_index(
        &self,
        tenant: Uuid,
        label: &str,
        value: &str,
    ) -> Result<String, Error> {
        self.index_keys([tenant])
            .await?
            .blind_index(tenant, label, value)
            .ok_or(Error::Crypto("find the tenant's index key"))
    }

    /// Rewraps every data key under `new` (current and retired keys of this
    /// keyring unwrap the old ones) in one transaction, and records `new`
    /// as the database's master key. Returns how many keys were rewrapped.
    /// Runs as the key table's owner; no event is touched.
    pub async fn rotate_master_key(&self, owner: &PgPool, new: &MasterKey) -> Result<u64, Error> {
        let mut tx = owner
            .begin()
            .await
            .map_err(Error::db("begin the rotation"))?;
        let rows: Vec<KeyRow> = sqlx::query_as(
            "SELECT tenant_id, subject_id, key_id, master_key_id, wrapped FROM privacy_keys WHERE wrapped IS NOT NULL FOR UPDATE",
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(Error::db("read the data keys to rotate"))?;
        let mut rewrapped = 0;
        for row in rows {
            let binding = Binding {
                tenant: row.tenant_id,
                subject: row.subject_id,
                key_id: row.key_id,
            };
            let key_id = row.key_id;
            let Entry::Live { key, .. } = self.unwrap_row(row).map_err(|reason| Error::Seal {
                event_type: "a data key".to_owned(),
                reason,
            })?
            else {
                continue;
            };
            sqlx::query(
                "UPDATE privacy_keys SET master_key_id = $2, wrapped = $3 WHERE key_id = $1",
            )
            .bind(key_id)
            .bind(new.id())
            .bind(new.wrap(&key, &binding)?)
            .execute(&mut *tx)
            .await
            .map_err(Error::db("rewrap a data key"))?;
            rewrapped += 1;
        }
        sqlx::query("UPDATE privacy_master SET master_key_id = $1, development_key = NULL, updated_at = clock_timestamp()")
            .bind(new.id())
            .execute(&mut *tx)
            .await
            .map_err(Error::db("record the new master key"))?;
        tx.commit()
            .await
            .map_err(Error::db("commit the rotation"))?;
        Ok(rewrapped)
    }
}

/// Whether `payload` holds any of `spec`'s fields in clear (not sealed, not null).
pub(crate) fn holds_clear_data(spec: &PersonalFields, payload: &Value) -> bool {
    spec.fields.iter().any(|(path, _)| {
        field(payload, path).is_some_and(|v| !v.is_null() && v.get(sealed::SEALED).is_none())
    })
}
