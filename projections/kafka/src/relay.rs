//! The relay: reads the log through the gap-safe subscription and publishes
//! every event to the topic, many sends in flight, storing its progress only
//! once the broker has acknowledged everything up to it.

use crate::error::Error;
use crate::{config, format, progress, topic};
use deedlog_eventstore::{LogReader, RecordedEvent, SubscriptionOptions};
use deedlog_projector::lease::Lease;
use deedlog_runtime::settings::KafkaSettings;
use futures::future::BoxFuture;
use futures::stream::{FuturesOrdered, StreamExt};
use futures::FutureExt;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{FutureProducer, FutureRecord};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How the relay reads and retries.
#[derive(Debug, Clone, Copy)]
pub struct RelayOptions {
    pub subscription: SubscriptionOptions,
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    /// How often a relay without the lease tries to take it.
    pub lease_interval: Duration,
    /// How long a shutdown waits for outstanding acknowledgements.
    pub drain_timeout: Duration,
}

impl Default for RelayOptions {
    fn default() -> Self {
        Self {
            subscription: SubscriptionOptions {
                batch_size: 5000,
                poll_interval: Duration::from_millis(500),
            },
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_secs(30),
            lease_interval: Duration::from_secs(5),
            drain_timeout: Duration::from_secs(5),
        }
    }
}

/// The relay's counters, read by metrics and tests.
#[derive(Debug, Default)]
pub struct RelayStats {
    /// The last position acknowledged by the broker.
    pub acknowledged: AtomicU64,
    /// When the log recorded the last acknowledged event (µs since epoch).
    pub acknowledged_recorded_at_micros: AtomicI64,
    /// The log's last position, as last looked up.
    pub log_head: AtomicU64,
    /// Events acknowledged since the process started.
    pub published: AtomicU64,
}

impl RelayStats {
    /// How many positions the topic is behind the log.
    pub fn lag_positions(&self) -> u64 {
        self.log_head
            .load(Ordering::Relaxed)
            .saturating_sub(self.acknowledged.load(Ordering::Relaxed))
    }
}

/// A relay, checked against the broker and ready to run.
#[derive(Debug)]
pub struct Relay {
    reader: LogReader,
    settings: KafkaSettings,
    partitions: i32,
    options: RelayOptions,
    stats: Arc<RelayStats>,
}

impl Relay {
    /// Checks the producer settings, the broker and the topic (creating it
    /// when allowed) and reads the stored progress: every mistake an
    /// operator can make shows here, at start-up.
    pub async fn start(
        reader: LogReader,
        settings: KafkaSettings,
        options: RelayOptions,
    ) -> Result<Self, Error> {
        let _: FutureProducer = config::producer(&settings)?;
        let partitions = topic::ensure(&settings).await?;
        let at = progress::load(reader.pool(), &settings.relay_name).await?;
        let stats = Arc::new(RelayStats::default());
        stats.acknowledged.store(at, Ordering::Relaxed);
        tracing::info!(relay = %settings.relay_name, topic = %settings.topic, partitions, from = at, "relay ready");
        Ok(Self {
            reader,
            settings,
            partitions,
            options,
            stats,
        })
    }

    pub fn stats(&self) -> Arc<RelayStats> {
        self.stats.clone()
    }

    /// Publishes until `shutdown`; failures (a broker gone, the database
    /// gone) restart it from the stored progress after a backoff.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) {
        let name = format!("relay.{}", self.settings.relay_name);
        let mut backoff = self.options.backoff_min;
        while !shutdown.is_cancelled() {
            let result = match Lease::try_acquire(self.reader.pool(), &name).await {
                Ok(Some(lease)) => {
                    let result = self.publish(&shutdown).await;
                    lease.release().await;
                    result
                }
                Ok(None) => {
                    // Another relay of this name publishes; wait for its lease.
                    tokio::select! {
                        _ = shutdown.cancelled() => {}
                        _ = tokio::time::sleep(self.options.lease_interval) => {}
                    }
                    continue;
                }
                Err(error) => Err(error.into()),
            };
            match result {
                Ok(()) => backoff = self.options.backoff_min,
                Err(error) => {
                    tracing::warn!(%error, retry_in_ms = backoff.as_millis() as u64, "relay failed; restarting from its stored progress");
                    tokio::select! {
                        _ = shutdown.cancelled() => {}
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(self.options.backoff_max);
                }
            }
        }
        tracing::info!(relay = %self.settings.relay_name, "relay stopped");
    }

    /// One run: from the stored progress until shutdown or a failure.
    async fn publish(&self, shutdown: &CancellationToken) -> Result<(), Error> {
        let pool = self.reader.pool();
        let name = &self.settings.relay_name;
        let producer: FutureProducer = config::producer(&self.settings)?;
        let start = progress::load(pool, name).await?;
        let mut acked = start;
        let mut stored = start;
        let mut batches = read_ahead(self.reader.subscribe(start, self.options.subscription));
        let mut unsent: VecDeque<RecordedEvent> = VecDeque::new();
        let mut in_flight = FuturesOrdered::new();
        let max_in_flight = self.settings.max_in_flight as usize;
        let mut progress_tick = tokio::time::interval(self.settings.progress_interval());
        let mut head_tick = tokio::time::interval(Duration::from_secs(1));
        let mut mark_tick = tokio::time::interval(self.settings.watermark_interval());
        // Everything up to `queued` is handed to the producer; watermarks
        // up to `marked` are.
        let (mut queued, mut marked) = (start, 0);
        tracing::info!(relay = %name, from = start, "publishing the log");
        let outcome: Result<(), Error> = 'run: loop {
            // Send what the queue takes; never wait for one acknowledgement.
            while in_flight.len() < max_in_flight {
                let Some(event) = unsent.front() else { break };
                match self.send(&producer, event) {
                    Ok(delivery) => {
                        queued = event.position;
                        in_flight.push_back(delivery);
                        unsent.pop_front();
                    }
                    // librdkafka's queue is full: acknowledgements make room.
                    Err(Unsent::QueueFull) => break,
                    Err(Unsent::Failed(error)) => break 'run Err(error),
                }
            }
            let read_more = unsent.is_empty() && in_flight.len() < max_in_flight;
            tokio::select! {
                biased;
                _ = shutdown.cancelled() => break Ok(()),
                delivered = in_flight.next(), if !in_flight.is_empty() => {
                    let Some(delivered) = delivered else { continue };
                    // This one and every acknowledgement already in.
                    let mut next = Some(delivered);
                    let mut failed = None;
                    while let Some(delivered) = next.take() {
                        if let Err(error) = self.acknowledge(delivered, &mut acked) {
                            failed = Some(error);
                            break;
                        }
                        next = in_flight.next().now_or_never().flatten();
                    }
                    if let Some(error) = failed {
                        break Err(error);
                    }
                }
                read = batches.recv(), if read_more => match read {
                    Some(Ok(batch)) => unsent.extend(batch),
                    Some(Err(error)) => break Err(error.into()),
                    None => break Ok(()),
                },
                _ = progress_tick.tick() => {
                    if acked > stored {
                        if let Err(error) = progress::store(pool, name, acked).await {
                            break Err(error);
                        }
                        stored = acked;
                    }
                }
                _ = mark_tick.tick(), if queued > marked => {
                    // Sent after the events they vouch for: on each
                    // partition, everything up to `queued` comes before.
                    match self.watermarks(&producer, queued) {
                        Ok(marks) => {
                            in_flight.extend(marks);
                            marked = queued;
                        }
                        Err(Unsent::QueueFull) => {}
                        Err(Unsent::Failed(error)) => break Err(error),
                    }
                }
                _ = head_tick.tick() => {
                    if let Ok(head) = progress::log_head(pool).await {
                        self.stats.log_head.store(head, Ordering::Relaxed);
                    }
                }
            }
        };
        // Whatever ended the run: wait a little for what is in flight, and
        // store what was acknowledged.
        let drain = async {
            while let Some(delivered) = in_flight.next().await {
                if self.acknowledge(delivered, &mut acked).is_err() {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(self.options.drain_timeout, drain).await;
        if acked > stored {
            progress::store(pool, name, acked).await?;
        }
        outcome
    }

    /// Hands `event` to the producer; the future resolves when the broker
    /// acknowledges it.
    fn send(
        &self,
        producer: &FutureProducer,
        event: &RecordedEvent,
    ) -> Result<BoxFuture<'static, Delivered>, Unsent> {
        let key = format::key(event);
        let value = format::value(event).map_err(|e| {
            Unsent::Failed(Error::Message {
                partition: -1,
                offset: -1,
                reason: e.to_string(),
            })
        })?;
        let record = FutureRecord::to(&self.settings.topic)
            .key(&key)
            .payload(&value)
            .partition(format::partition_of(event.tenant_id, self.partitions))
            .headers(format::headers(event));
        let delivery = producer
            .send_result(record)
            .map_err(|(error, _)| Unsent::from(error, "queue an event"))?;
        Ok(delivered(
            delivery,
            event.position,
            Some(event.recorded_at.timestamp_micros()),
        ))
    }

    /// A watermark for `position` on every partition: consumers learn that a
    /// partition holds every event up to it even when its tenants are idle.
    fn watermarks(
        &self,
        producer: &FutureProducer,
        position: u64,
    ) -> Result<Vec<BoxFuture<'static, Delivered>>, Unsent> {
        let mut marks = Vec::with_capacity(self.partitions as usize);
        for partition in 0..self.partitions {
            let record = FutureRecord::<str, [u8]>::to(&self.settings.topic)
                .partition(partition)
                .headers(format::watermark(position));
            let delivery = producer
                .send_result(record)
                .map_err(|(error, _)| Unsent::from(error, "queue a watermark"))?;
            marks.push(delivered(delivery, position, None));
        }
        Ok(marks)
    }

    /// Moves the acknowledged position; acknowledgements arrive in send
    /// order, so it is always a prefix of the log.
    fn acknowledge(&self, delivered: Delivered, acked: &mut u64) -> Result<(), Error> {
        delivered.result.map_err(Error::kafka("publish an event"))?;
        *acked = (*acked).max(delivered.position);
        self.stats.acknowledged.store(*acked, Ordering::Relaxed);
        // A watermark vouches for events; it is none itself.
        if let Some(recorded_at) = delivered.recorded_at {
            self.stats
                .acknowledged_recorded_at_micros
                .store(recorded_at, Ordering::Relaxed);
            self.stats.published.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }
}

/// Reads the log in a task of its own: a subscription's read must not be
/// cancelled halfway (its pooled connection would be left mid-protocol), and
/// the publishing loop waits on acknowledgements and ticks as well. Two
/// batches ahead at most; the task ends after the receiver is dropped.
fn read_ahead(
    mut subscription: deedlog_eventstore::Subscription,
) -> tokio::sync::mpsc::Receiver<Result<Vec<RecordedEvent>, deedlog_eventstore::Error>> {
    let (sender, receiver) = tokio::sync::mpsc::channel(2);
    tokio::spawn(async move {
        while !sender.is_closed() {
            let read = subscription.next_batch().await;
            let failed = read.is_err();
            if sender.send(read).await.is_err() || failed {
                break;
            }
        }
    });
    receiver
}

/// What the broker said about one event.
struct Delivered {
    position: u64,
    /// When the log recorded the event (µs); None for a watermark.
    recorded_at: Option<i64>,
    result: Result<(), KafkaError>,
}

/// What the broker says about one send, once it says it.
fn delivered(
    delivery: rdkafka::producer::DeliveryFuture,
    position: u64,
    recorded_at: Option<i64>,
) -> BoxFuture<'static, Delivered> {
    async move {
        Delivered {
            position,
            recorded_at,
            result: match delivery.await {
                Ok(Ok(_)) => Ok(()),
                Ok(Err((error, _))) => Err(error),
                Err(_) => Err(KafkaError::Canceled),
            },
        }
    }
    .boxed()
}

/// Why an event was not handed to the producer.
enum Unsent {
    QueueFull,
    Failed(Error),
}

impl Unsent {
    /// A full queue is waited out; anything else fails the run.
    fn from(error: KafkaError, context: &'static str) -> Self {
        match error {
            KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull) => Unsent::QueueFull,
            source => Unsent::Failed(Error::Kafka { context, source }),
        }
    }
}

impl RelayStats {
    /// The relay's series in the Prometheus text format.
    pub fn render(&self) -> String {
        let acked = self.acknowledged.load(Ordering::Relaxed);
        let at = self.acknowledged_recorded_at_micros.load(Ordering::Relaxed);
        let lag_seconds = if at == 0 || self.lag_positions() == 0 {
            0.0
        } else {
            (chrono::Utc::now().timestamp_micros() - at).max(0) as f64 / 1e6
        };
        let mut out = String::new();
        for (name, kind, help, value) in [
            (
                "deedlog_relay_lag_positions",
                "gauge",
                "Log positions not yet acknowledged by Kafka.",
                self.lag_positions() as f64,
            ),
            (
                "deedlog_relay_lag_seconds",
                "gauge",
                "Age of the last acknowledged event while the relay is behind.",
                lag_seconds,
            ),
            (
                "deedlog_relay_acknowledged_position",
                "gauge",
                "The last log position Kafka acknowledged.",
                acked as f64,
            ),
            (
                "deedlog_relay_log_head_position",
                "gauge",
                "The log's last position, as last looked up.",
                self.log_head.load(Ordering::Relaxed) as f64,
            ),
            (
                "deedlog_relay_published_events_total",
                "counter",
                "Events acknowledged since the relay started.",
                self.published.load(Ordering::Relaxed) as f64,
            ),
        ] {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
            ));
        }
        out
    }
}
