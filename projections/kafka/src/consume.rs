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

/// How often a member moves the schemas' checkpoints up to its offsets.
const RAISE_EVERY: Duration = Duration::from_millis(100);

/// How the group consumer batches and retries.
#[derive(Debug, Clone)]
pub struct ConsumerOptions {
    /// Most messages in one batch.
    pub batch_size: usize,
    /// How long a batch waits for more messages once it has one.
    pub linger: Duration,
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    /// Opens the sealed personal fields the topic carries (ADR 0035);
    /// without one, events are applied as the topic holds them.
    pub keyring: Option<deedlog_privacy::Keyring>,
}

impl Default for ConsumerOptions {
    fn default() -> Self {
        Self {
            batch_size: 1000,
            linger: Duration::from_millis(5),
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_secs(30),
            keyring: None,
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
        let consumer = ClosedAside(Some(consumer));
        consumer
            .subscribe(&[&self.settings.topic])
            .map_err(Error::kafka("subscribe to the topic"))?;
        tracing::info!(group = %self.settings.group_id, topic = %self.settings.topic, "joined the projector group");
        let mut states: HashMap<i32, PartitionState> = HashMap::new();
        // Checkpoints follow the offsets every so often, and once more when
        // the stream pauses.
        let mut checkpoint_raised = Instant::now();
        let mut raised = true;
        loop {
            let first = tokio::select! {
                _ = shutdown.cancelled() => break,
                received = consumer.recv() => received.map_err(Error::kafka("receive"))?.detach(),
                _ = tokio::time::sleep(RAISE_EVERY), if !raised => {
                    self.raise_checkpoints().await?;
                    raised = true;
                    continue;
                }
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
            self.work_batch(&consumer, &mut states, by_partition(messages))
                .await?;
            raised = false;
            if checkpoint_raised.elapsed() > RAISE_EVERY {
                self.raise_checkpoints().await?;
                checkpoint_raised = Instant::now();
                raised = true;
            }
        }
        Ok(())
    }

    /// Applies a batch (messages grouped by partition) to every projection
    /// that has not applied them yet: one transaction per projection for
    /// all of the batch's partitions, each partition's offset locked and
    /// moved in it.
    async fn work_batch(
        &self,
        consumer: &StreamConsumer<Rebalances>,
        states: &mut HashMap<i32, PartitionState>,
        groups: BTreeMap<i32, Vec<OwnedMessage>>,
    ) -> Result<(), Error> {
        let mut ready: Vec<(i32, Vec<OwnedMessage>)> = Vec::with_capacity(groups.len());
        for (partition, messages) in groups {
            if let std::collections::hash_map::Entry::Vacant(entry) = states.entry(partition) {
                entry.insert(self.load(partition).await?);
            }
            let state = states.get_mut(&partition).expect("loaded above");
            let lowest = state.lowest();
            let first = messages[0].offset();
            if first > lowest {
                if state.sought != Some(lowest) {
                    // The fetch started past what some projection has applied
                    // (Kafka's committed offset is only a hint): go back to
                    // the stored offset and drop these.
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
                    continue;
                }
                tracing::warn!(partition, from = lowest, to = first, "offsets missing from the topic (retention?); going on from the first available");
            }
            state.sought = None;
            ready.push((partition, messages));
        }
        if ready.is_empty() {
            return Ok(());
        }
        let jobs = self
            .projections
            .iter()
            .enumerate()
            .map(|(i, projection)| {
                let slices = ready
                    .iter()
                    .filter_map(|(partition, messages)| {
                        let at = states[partition].offsets[i];
                        let pending: Vec<&OwnedMessage> = messages
                            .iter()
                            .filter(|m| m.offset() >= at.next_offset)
                            .collect();
                        (!pending.is_empty()).then(|| Slice {
                            partition: *partition,
                            at,
                            messages: decode(&pending, at.last_position),
                        })
                    })
                    .collect();
                self.apply(projection.clone(), slices)
            })
            .collect::<Vec<_>>();
        let results = futures::future::join_all(jobs).await;
        let mut moved = false;
        for (i, result) in results.into_iter().enumerate() {
            match result {
                Ok(advanced) => {
                    for (partition, at) in advanced {
                        if let Some(state) = states.get_mut(&partition) {
                            state.offsets[i] = at;
                        }
                    }
                }
                Err(Error::Projector(deedlog_projector::Error::CheckpointMoved { .. })) => {
                    moved = true
                }
                Err(error) => return Err(error),
            }
        }
        for (partition, _) in &ready {
            if moved {
                // Another member applied some of these first (a rebalance):
                // start again from what is stored.
                tracing::info!(
                    partition,
                    "partition moved by another group member; reloading its offsets"
                );
                states.remove(partition);
            } else if let Some(state) = states.get(partition) {
                // For monitoring tools only; the read models hold the real offsets.
                let _ = consumer.store_offset(&self.settings.topic, *partition, state.lowest());
            }
        }
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

    /// Applies `slices` to one projection; where each partition now stands.
    async fn apply(
        &self,
        projection: Arc<dyn Projection>,
        slices: Vec<Slice>,
    ) -> Result<Vec<(i32, PartitionOffset)>, Error> {
        if slices.is_empty() {
            return Ok(Vec::new());
        }
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
        match self.commit(projection.as_ref(), &slices, None).await {
            Err(Error::Projector(deedlog_projector::Error::Apply(error)))
                if !error.is_transient() =>
            {
                let mut advanced = Vec::with_capacity(slices.len());
                for slice in &slices {
                    let at = self.isolate(projection.as_ref(), slice).await?;
                    advanced.push((slice.partition, at));
                }
                Ok(advanced)
            }
            other => other,
        }
    }

    /// Applies `slices` and moves their partitions' offsets, in one
    /// transaction (rows locked in partition order, so two members never
    /// deadlock); `bury` sends the events to the dead letters instead.
    async fn commit(
        &self,
        projection: &dyn Projection,
        slices: &[Slice],
        bury: Option<&ApplyError>,
    ) -> Result<Vec<(i32, PartitionOffset)>, Error> {
        let topic = &self.settings.topic;
        let schema = schema::live(projection.name());
        let context = "apply a batch from Kafka";
        // Partitions hold different tenants; within each, log order is kept.
        let mut events: Vec<RecordedEvent> = slices
            .iter()
            .flat_map(|slice| slice.messages.iter().filter_map(|d| d.event.clone()))
            .collect();
        events.sort_by_key(|e| e.position);
        // Opened, and the index keys fetched, before the transaction takes a
        // connection: the key service takes one of the same pool.
        if let Some(keyring) = &self.options.keyring {
            keyring
                .open_events(&mut events)
                .await
                .map_err(deedlog_eventstore::Error::from)?;
        }
        let index_keys =
            deedlog_projector::projection::index_keys(self.options.keyring.as_ref(), &events)
                .await?;
        let mut conn = self.pool.acquire().await.map_err(Error::db(context))?;
        let mut tx = conn.begin().await.map_err(Error::db(context))?;
        deedlog_projector::worker::prepare_batch(&mut tx, &schema, false).await?;
        let mut advanced = Vec::with_capacity(slices.len());
        for slice in slices {
            let Some(last) = slice.messages.last() else {
                continue;
            };
            partition::lock_at(&mut tx, &schema, topic, slice.partition, slice.at).await?;
            let to = PartitionOffset {
                next_offset: last.offset + 1,
                last_position: last.reaches.max(slice.at.last_position),
            };
            advanced.push((slice.partition, to));
        }
        let _spans = deedlog_projector::trace::event_spans(projection.name(), &events);
        match bury {
            None if !events.is_empty() => projection
                .apply(
                    &mut tx,
                    &events,
                    deedlog_projector::Keys::new(index_keys.as_ref()),
                )
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
        for (partition, to) in &advanced {
            partition::advance(&mut tx, topic, *partition, *to).await?;
        }
        // The rows changed ahead of the checkpoint, which rises later
        // (raise_checkpoints): announced now, so that no reader keeps an
        // answer from before them.
        if !events.is_empty() {
            deedlog_projector::checkpoint::announce_change(&mut tx, &schema).await?;
        }
        tx.commit().await.map_err(Error::db(context))?;
        self.count(projection, &events, bury.is_some());
        Ok(advanced)
    }

    /// Reports a committed batch in the projection's counters (and the lag sink).
    fn count(&self, projection: &dyn Projection, events: &[RecordedEvent], buried: bool) {
        let Some(last) = events.last() else {
            return;
        };
        let stats = &self.stats[projection.name()];
        if buried {
            stats
                .dead_letters
                .fetch_add(events.len() as u64, std::sync::atomic::Ordering::Relaxed);
            return;
        }
        stats.committed(events.len(), last.position, last.recorded_at);
        if let Some(sink) = &self.lag {
            let now = chrono::Utc::now();
            let mut sink = sink.lock().unwrap_or_else(|e| e.into_inner());
            sink.extend(
                events
                    .iter()
                    .map(|e| (now - e.recorded_at).num_microseconds().unwrap_or(0) as f64 / 1000.0),
            );
        }
    }

    /// Applies one partition's slice a message at a time; the event that
    /// cannot be applied goes to the dead letters with the offset moved
    /// past it.
    async fn isolate(
        &self,
        projection: &dyn Projection,
        slice: &Slice,
    ) -> Result<PartitionOffset, Error> {
        let mut at = slice.at;
        for one in slice.messages.chunks(1) {
            let single = [Slice {
                partition: slice.partition,
                at,
                messages: one.to_vec(),
            }];
            let advanced = match self.commit(projection, &single, None).await {
                Err(Error::Projector(deedlog_projector::Error::Apply(error)))
                    if !error.is_transient() =>
                {
                    let buried = self.commit(projection, &single, Some(&error)).await?;
                    if projection.policy() == FailurePolicy::DeadLetterAndStop {
                        return Ok(buried[0].1);
                    }
                    buried
                }
                other => other?,
            };
            at = advanced[0].1;
        }
        Ok(at)
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

/// One partition's messages that one projection has yet to apply.
#[derive(Debug)]
struct Slice {
    partition: i32,
    at: PartitionOffset,
    messages: Vec<Decoded>,
}

/// One message, and its event unless it is a repeat, a watermark or not
/// an event.
#[derive(Debug, Clone)]
struct Decoded {
    offset: i64,
    event: Option<RecordedEvent>,
    /// The partition's last position once this message is applied.
    reaches: u64,
}

/// Decodes `messages`, leaving out events at or below `last_position`
/// (repeats of a relay retry) and messages that are not deedlog events; a
/// watermark raises `last_position` without an event.
fn decode(messages: &[&OwnedMessage], mut last_position: u64) -> Vec<Decoded> {
    messages
        .iter()
        .map(|message| {
            let offset = message.offset();
            if let Some(mark) = format::watermark_header(message.headers()) {
                last_position = last_position.max(mark);
                return Decoded {
                    offset,
                    event: None,
                    reaches: last_position,
                };
            }
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
            Decoded {
                offset,
                event,
                reaches: last_position,
            }
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

/// A consumer closed on a thread of its own when dropped, on every path
/// out of `KafkaProjector::consume`: shutdown, failure or an aborted
/// task. rdkafka's drop polls until the group lets the consumer go, which
/// can take as long as the coordinator is unreachable; on a runtime worker
/// that stalled every task of that worker, and a shutdown waited for ever
/// (seen in `mock_cluster_a_survivor_resumes_inside_a_record_batch`; the
/// test `a_member_stops_at_once_while_its_broker_is_away`). Offsets live
/// in the read models' own tables, so nothing waits on the close.
struct ClosedAside(Option<StreamConsumer<Rebalances>>);

impl std::ops::Deref for ClosedAside {
    type Target = StreamConsumer<Rebalances>;

    fn deref(&self) -> &Self::Target {
        self.0.as_ref().expect("present until dropped")
    }
}

impl Drop for ClosedAside {
    fn drop(&mut self) {
        if let Some(consumer) = self.0.take() {
            // Should no thread start, the closure and the consumer drop here.
            let _ = std::thread::Builder::new()
                .name("kafka-close".into())
                .spawn(move || drop(consumer));
        }
    }
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
