//! Projectors as a consumer group: every process of the group runs every
//! projection over the partitions Kafka assigns it. Each projection keeps
//! its offset per partition in its own schema, moved in the transaction
//! that applies the messages ([`deedlog_projector::partition`]), so a
//! process killed mid-batch, a rebalance or a relay retry never applies an
//! event twice or loses one: the consumer seeks to the stored offsets, and
//! a repeated event is recognised by its log position and skipped.

use crate::error::Error;
use crate::{config, format, topic};
use deedlog_eventstore::RecordedEvent;
use deedlog_projector::partition::{self, PartitionOffset};
use deedlog_projector::{
    dead_letter, runner, schema, ApplyError, FailurePolicy, Projection, Stats,
};
use deedlog_runtime::settings::KafkaSettings;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance, StreamConsumer};
use rdkafka::message::{Message, OwnedMessage};
use rdkafka::{ClientContext, Offset};
use sqlx::{Acquire, PgPool};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// How the group consumer batches and retries.
#[derive(Debug, Clone, Copy)]
pub struct ConsumerOptions {
    /// Most messages in one batch.
    pub batch_size: usize,
    /// How long a batch waits for more messages once it has one.
    pub linger: Duration,
    pub backoff_min: Duration,
    pub backoff_max: Duration,
}

impl Default for ConsumerOptions {
    fn default() -> Self {
        Self {
            batch_size: 1000,
            linger: Duration::from_millis(5),
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_secs(30),
        }
    }
}

/// Commit-to-read-model delays (ms) of applied events, when someone asks.
pub type LagSink = Arc<Mutex<Vec<f64>>>;

/// The projections of one group member.
#[derive(Debug)]
pub struct KafkaProjector {
    projections: Vec<Arc<dyn Projection>>,
    pool: PgPool,
    settings: KafkaSettings,
    partitions: i32,
    options: ConsumerOptions,
    stats: BTreeMap<&'static str, Arc<Stats>>,
    lag: Option<LagSink>,
}

impl KafkaProjector {
    /// Checks the consumer settings, the broker and the topic, and creates
    /// the read-model schemas that are missing.
    pub async fn start(
        projections: Vec<Arc<dyn Projection>>,
        pool: PgPool,
        settings: KafkaSettings,
        options: ConsumerOptions,
    ) -> Result<Self, Error> {
        let _: StreamConsumer = config::consumer_config(&settings)
            .create()
            .map_err(|source| Error::Config {
                side: "consumer",
                source,
            })?;
        let partitions = topic::ensure(&settings).await?;
        for projection in &projections {
            runner::ensure_live(pool.clone(), projection.clone()).await?;
        }
        let stats = projections
            .iter()
            .map(|p| (p.name(), Arc::new(Stats::default())))
            .collect();
        Ok(Self {
            projections,
            pool,
            settings,
            partitions,
            options,
            stats,
            lag: None,
        })
    }

    /// Each projection's counters, by name.
    pub fn stats(&self) -> &BTreeMap<&'static str, Arc<Stats>> {
        &self.stats
    }

    /// Records every applied event's delay from the log's commit into `sink`.
    pub fn record_lag(mut self, sink: LagSink) -> Self {
        self.lag = Some(sink);
        self
    }

    /// Consumes until `shutdown`; a batch in progress is finished. Failures
    /// (broker or database gone) start a new consumer after a backoff.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) {
        let mut backoff = self.options.backoff_min;
        while !shutdown.is_cancelled() {
            match self.consume(&shutdown).await {
                Ok(()) => backoff = self.options.backoff_min,
                Err(error) => {
                    tracing::warn!(%error, retry_in_ms = backoff.as_millis() as u64, "kafka projector failed; rejoining the group");
                    tokio::select! {
                        _ = shutdown.cancelled() => {}
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(self.options.backoff_max);
                }
            }
        }
        tracing::info!(group = %self.settings.group_id, "kafka projector stopped");
    }

    async fn consume(&self, shutdown: &CancellationToken) -> Result<(), Error> {
        let context = Rebalances::default();
        let revoked = context.revoked.clone();
        let consumer: StreamConsumer<Rebalances> = config::consumer_config(&self.settings)
            .create_with_context(context)
            .map_err(|source| Error::Config {
                side: "consumer",
                source,
            })?;
        consumer
            .subscribe(&[&self.settings.topic])
            .map_err(Error::kafka("subscribe to the topic"))?;
        tracing::info!(group = %self.settings.group_id, topic = %self.settings.topic, "joined the projector group");
        let mut states: HashMap<i32, PartitionState> = HashMap::new();
        let mut checkpoint_raised = Instant::now();
        loop {
            let first = tokio::select! {
                _ = shutdown.cancelled() => break,
                received = consumer.recv() => received.map_err(Error::kafka("receive"))?.detach(),
            };
            let mut messages = vec![first];
            let deadline = tokio::time::Instant::now() + self.options.linger;
            while messages.len() < self.options.batch_size {
                match tokio::time::timeout_at(deadline, consumer.recv()).await {
                    Ok(received) => {
                        messages.push(received.map_err(Error::kafka("receive"))?.detach())
                    }
                    Err(_) => break,
                }
            }
            // A partition taken away is read again from the database when
            // it comes back: its new owner may have moved it meanwhile.
            for partition in take(&revoked) {
                states.remove(&partition);
            }
            for (partition, messages) in by_partition(messages) {
                self.work_partition(&consumer, &mut states, partition, messages)
                    .await?;
            }
            if checkpoint_raised.elapsed() > Duration::from_millis(200) {
                self.raise_checkpoints().await?;
                checkpoint_raised = Instant::now();
            }
        }
        Ok(())
    }

    /// Applies one partition's messages to every projection that has not
    /// applied them yet.
    async fn work_partition(
        &self,
        consumer: &StreamConsumer<Rebalances>,
        states: &mut HashMap<i32, PartitionState>,
        partition: i32,
        messages: Vec<OwnedMessage>,
    ) -> Result<(), Error> {
        if let std::collections::hash_map::Entry::Vacant(entry) = states.entry(partition) {
            entry.insert(self.load(partition).await?);
        }
        let state = states.get_mut(&partition).expect("loaded above");
        let lowest = state.lowest();
        let first = messages[0].offset();
        if first > lowest {
            if state.sought != Some(lowest) {
                // The fetch started past what some projection has applied
                // (Kafka's committed offset is only a hint): go back to the
                // stored offset and drop these.
                tracing::info!(
                    partition,
                    from = first,
                    to = lowest,
                    "seeking to the stored offset"
                );
                consumer
                    .seek(
                        &self.settings.topic,
                        partition,
                        Offset::Offset(lowest),
                        Duration::from_secs(10),
                    )
                    .map_err(Error::kafka("seek to a stored offset"))?;
                state.sought = Some(lowest);
                return Ok(());
            }
            tracing::warn!(
                partition,
                from = lowest,
                to = first,
                "offsets missing from the topic (retention?); going on from the first available"
            );
        }
        state.sought = None;
        let jobs = self
            .projections
            .iter()
            .zip(state.offsets.iter().copied())
            .zip(&messages_by_projection(&messages, &state.offsets))
            .map(|((projection, at), pending)| {
                self.apply(projection.clone(), partition, at, pending.clone())
            })
            .collect::<Vec<_>>();
        let results = futures::future::join_all(jobs).await;
        let mut moved = false;
        for (i, result) in results.into_iter().enumerate() {
            match result {
                Ok(Some(at)) => state.offsets[i] = at,
                Ok(None) => {}
                Err(Error::Projector(deedlog_projector::Error::CheckpointMoved { .. })) => {
                    moved = true
                }
                Err(error) => return Err(error),
            }
        }
        if moved {
            // Another member applied these first (a rebalance): start again
            // from what is stored.
            tracing::info!(
                partition,
                "partition moved by another group member; reloading its offsets"
            );
            states.remove(&partition);
            return Ok(());
        }
        // For monitoring tools only; the read models hold the real offsets.
        let low = state.lowest();
        let _ = consumer.store_offset(&self.settings.topic, partition, low);
        Ok(())
    }

    /// Where every projection stands on `partition`.
    async fn load(&self, partition: i32) -> Result<PartitionState, Error> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(Error::db("read partition offsets"))?;
        let mut offsets = Vec::with_capacity(self.projections.len());
        for projection in &self.projections {
            let schema = schema::live(projection.name());
            offsets
                .push(partition::load(&mut conn, &schema, &self.settings.topic, partition).await?);
        }
        Ok(PartitionState {
            offsets,
            sought: None,
        })
    }

    /// Applies `messages` (those of one partition at or past `at`) to one
    /// projection; the new offset, or None when there was nothing to do.
    async fn apply(
        &self,
        projection: Arc<dyn Projection>,
        partition: i32,
        at: PartitionOffset,
        messages: Vec<OwnedMessage>,
    ) -> Result<Option<PartitionOffset>, Error> {
        if messages.is_empty() {
            return Ok(None);
        }
        let batch = decode(&messages, at.last_position);
        if projection.policy() == FailurePolicy::DeadLetterAndStop {
            let mut conn = self
                .pool
                .acquire()
                .await
                .map_err(Error::db("check dead letters"))?;
            let schema = schema::live(projection.name());
            if let Some(letter) = dead_letter::first_pending(&mut conn, &schema).await? {
                return Err(deedlog_projector::Error::Stopped {
                    projection: projection.name().to_owned(),
                    position: letter.position,
                    dead_letter: letter.id,
                }
                .into());
            }
        }
        match self
            .commit(projection.as_ref(), partition, at, &batch, None)
            .await
        {
            Err(Error::Projector(deedlog_projector::Error::Apply(error)))
                if !error.is_transient() =>
            {
                self.isolate(projection.as_ref(), partition, at, &batch)
                    .await
            }
            other => other.map(Some),
        }
    }

    /// Applies `batch` and moves the partition's offset, in one transaction;
    /// `bury` sends its one event to the dead letters instead.
    async fn commit(
        &self,
        projection: &dyn Projection,
        partition: i32,
        at: PartitionOffset,
        batch: &[Decoded],
        bury: Option<&ApplyError>,
    ) -> Result<PartitionOffset, Error> {
        let Some(last) = batch.last() else {
            return Ok(at);
        };
        let topic = &self.settings.topic;
        let schema = schema::live(projection.name());
        let events: Vec<RecordedEvent> = batch.iter().filter_map(|d| d.event.clone()).collect();
        let to = PartitionOffset {
            next_offset: last.offset + 1,
            last_position: events.last().map_or(at.last_position, |e| e.position),
        };
        let context = "apply a partition batch";
        let mut conn = self.pool.acquire().await.map_err(Error::db(context))?;
        let mut tx = conn.begin().await.map_err(Error::db(context))?;
        deedlog_projector::worker::prepare_batch(&mut tx, &schema).await?;
        partition::lock_at(&mut tx, &schema, topic, partition, at).await?;
        match bury {
            None if !events.is_empty() => projection
                .apply(&mut tx, &events)
                .await
                .map_err(deedlog_projector::Error::Apply)?,
            None => {}
            Some(error) => {
                for event in &events {
                    let id = dead_letter::record(
                        &mut tx,
                        projection.name(),
                        &schema,
                        event,
                        &error.to_string(),
                    )
                    .await?;
                    tracing::warn!(projection = projection.name(), position = event.position, dead_letter = id, %error, "event sent to the dead letters");
                }
            }
        }
        partition::advance(&mut tx, topic, partition, to).await?;
        tx.commit().await.map_err(Error::db(context))?;
        let stats = &self.stats[projection.name()];
        if let Some(last) = events.last() {
            if bury.is_some() {
                stats
                    .dead_letters
                    .fetch_add(events.len() as u64, std::sync::atomic::Ordering::Relaxed);
            } else {
                stats.committed(events.len(), last.position, last.recorded_at);
                if let Some(sink) = &self.lag {
                    let now = chrono::Utc::now();
                    let mut sink = sink.lock().unwrap_or_else(|e| e.into_inner());
                    sink.extend(events.iter().map(|e| {
                        (now - e.recorded_at).num_microseconds().unwrap_or(0) as f64 / 1000.0
                    }));
                }
            }
        }
        Ok(to)
    }

    /// Applies `batch` one message at a time; the event that cannot be
    /// applied goes to the dead letters with the offset moved past it.
    async fn isolate(
        &self,
        projection: &dyn Projection,
        partition: i32,
        mut at: PartitionOffset,
        batch: &[Decoded],
    ) -> Result<Option<PartitionOffset>, Error> {
        for one in batch.chunks(1) {
            at = match self.commit(projection, partition, at, one, None).await {
                Err(Error::Projector(deedlog_projector::Error::Apply(error)))
                    if !error.is_transient() =>
                {
                    let buried = self
                        .commit(projection, partition, at, one, Some(&error))
                        .await?;
                    if projection.policy() == FailurePolicy::DeadLetterAndStop {
                        return Ok(Some(buried));
                    }
                    buried
                }
                other => other?,
            };
        }
        Ok(Some(at))
    }

    /// Moves each schema's checkpoint up to what every partition has applied.
    async fn raise_checkpoints(&self) -> Result<(), Error> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(Error::db("raise checkpoints"))?;
        for projection in &self.projections {
            let schema = schema::live(projection.name());
            partition::raise_checkpoint(&mut conn, &schema, &self.settings.topic, self.partitions)
                .await?;
        }
        Ok(())
    }
}

/// One message, and its event unless it is a repeat or not an event.
#[derive(Debug, Clone)]
struct Decoded {
    offset: i64,
    event: Option<RecordedEvent>,
}

/// Decodes `messages`, leaving out events at or below `last_position`
/// (repeats of a relay retry) and messages that are not deedlog events.
fn decode(messages: &[OwnedMessage], mut last_position: u64) -> Vec<Decoded> {
    messages
        .iter()
        .map(|message| {
            let offset = message.offset();
            let repeat = format::position_header(message.headers()).is_some_and(|p| p <= last_position);
            let event = if repeat {
                None
            } else {
                match message.payload().map(format::decode) {
                    Some(Ok(event)) if event.position > last_position => {
                        last_position = event.position;
                        Some(event)
                    }
                    Some(Ok(_)) => None,
                    Some(Err(error)) => {
                        tracing::error!(partition = message.partition(), offset, %error, "skipped a message that is not a deedlog event");
                        None
                    }
                    None => None,
                }
            };
            Decoded { offset, event }
        })
        .collect()
}

/// What one partition's projections have applied.
#[derive(Debug)]
struct PartitionState {
    /// One per projection, in the projector's order.
    offsets: Vec<PartitionOffset>,
    /// Where the consumer was last sent back to, until messages from there arrive.
    sought: Option<i64>,
}

impl PartitionState {
    fn lowest(&self) -> i64 {
        self.offsets
            .iter()
            .map(|o| o.next_offset)
            .min()
            .unwrap_or(0)
    }
}

/// For each projection, the messages at or past its offset.
fn messages_by_projection(
    messages: &[OwnedMessage],
    offsets: &[PartitionOffset],
) -> Vec<Vec<OwnedMessage>> {
    offsets
        .iter()
        .map(|at| {
            messages
                .iter()
                .filter(|m| m.offset() >= at.next_offset)
                .cloned()
                .collect()
        })
        .collect()
}

/// Messages grouped by partition, each group in offset order.
fn by_partition(messages: Vec<OwnedMessage>) -> BTreeMap<i32, Vec<OwnedMessage>> {
    let mut groups: BTreeMap<i32, Vec<OwnedMessage>> = BTreeMap::new();
    for message in messages {
        groups.entry(message.partition()).or_default().push(message);
    }
    groups
}

fn take(revoked: &Mutex<Vec<i32>>) -> Vec<i32> {
    std::mem::take(&mut *revoked.lock().unwrap_or_else(|e| e.into_inner()))
}

/// Notes revoked partitions for the consuming loop.
#[derive(Debug, Default)]
struct Rebalances {
    revoked: Arc<Mutex<Vec<i32>>>,
}

impl ClientContext for Rebalances {}

impl ConsumerContext for Rebalances {
    fn pre_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Revoke(partitions) => {
                let mut revoked = self.revoked.lock().unwrap_or_else(|e| e.into_inner());
                revoked.extend(partitions.elements().iter().map(|e| e.partition()));
                tracing::info!(partitions = ?*revoked, "partitions revoked");
            }
            Rebalance::Assign(partitions) => {
                let assigned: Vec<i32> = partitions
                    .elements()
                    .iter()
                    .map(|e| e.partition())
                    .collect();
                tracing::info!(partitions = ?assigned, "partitions assigned");
            }
            Rebalance::Error(error) => tracing::warn!(%error, "rebalance failed"),
        }
    }
}
