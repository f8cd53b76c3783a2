//! Appending transactions stepped through every order that two and three
//! writers allow (three: up to renaming the writers, see
//! [`ids_taken_in_name_order`]), over real connections, with a real
//! subscription reading between every step: whatever the order of take-id,
//! draw-position, commit and rollback, each committed position is delivered
//! once, in order, and no rolled-back one ever is (issue 15). Also: an
//! append that fails on its third event stores none of them.

use crate::support::{self, new_stream, TestDb};
use deedlog_eventstore::{
    AppendRequest, Error, EventStore, ExpectedVersion, LogReader, NewEvent, StreamQuery,
    Subscription, SubscriptionOptions, Upcasters,
};
use deedlog_kernel::{StreamId, TenantId};
use serde_json::json;
use sqlx::postgres::PgPoolOptions;
use sqlx::{Executor, PgConnection, PgPool, Row};
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// What a writer does, in this order: take its transaction id, draw a
/// position (`append_events`), then commit or roll back.
const STEPS: usize = 3;

/// Writers as failure messages name them.
const NAMES: [char; 3] = ['A', 'B', 'C'];

/// How long the end of a run may take to deliver what committed. A gap
/// settles once every transaction older than the reader's id has ended in
/// the whole cluster, other tests' included: some hold a write transaction
/// open for seconds on purpose (the projector's hole tests), which holds
/// every run here back as long.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(30);

/// Pause between reads while the end of a run waits for a gap to settle.
const SETTLE_PAUSE: Duration = Duration::from_millis(2);

/// A harness run stops after this many failing orders: each is printed.
const MAX_FAILURES: usize = 3;

/// Every order of `writers` × [`STEPS`] steps that keeps each writer's own
/// steps in order: the writer's index, once per step it takes.
fn interleavings(writers: usize) -> Vec<Vec<usize>> {
    fn extend(left: &mut [usize], prefix: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
        if left.iter().all(|n| *n == 0) {
            out.push(prefix.clone());
            return;
        }
        for writer in 0..left.len() {
            if left[writer] > 0 {
                left[writer] -= 1;
                prefix.push(writer);
                extend(left, prefix, out);
                prefix.pop();
                left[writer] += 1;
            }
        }
    }
    let mut out = Vec::new();
    extend(&mut vec![STEPS; writers], &mut Vec::new(), &mut out);
    out
}

/// Every commit/rollback choice for `writers` writers (true: commits).
fn every_outcome(writers: usize) -> Vec<Vec<bool>> {
    (0..1u32 << writers)
        .map(|bits| (0..writers).map(|w| bits & (1 << w) == 0).collect())
        .collect()
}

/// The interleavings in which the writers take their ids in the order of
/// their names: A first, then B, then C. Every other interleaving is one of
/// these with the writers renamed, and renaming changes nothing PostgreSQL
/// or the reader can tell apart (ids and positions follow the order of the
/// steps, not the connection), so under outcomes closed under renaming (all
/// commit; each single rollback) these runs cover all interleavings, at a
/// sixth of the cost for three writers.
fn ids_taken_in_name_order(orders: Vec<Vec<usize>>) -> Vec<Vec<usize>> {
    orders
        .into_iter()
        .filter(|order| renamed_by_first_step(order) == *order)
        .collect()
}

/// `order` with the writers renamed in the order of their first step.
fn renamed_by_first_step(order: &[usize]) -> Vec<usize> {
    let mut names = Vec::new();
    for &writer in order {
        if !names.contains(&writer) {
            names.push(writer);
        }
    }
    order
        .iter()
        .map(|w| names.iter().position(|n| n == w).expect("named above"))
        .collect()
}

/// All commit, then each writer alone rolling back.
fn all_commit_or_one_rollback(writers: usize) -> Vec<Vec<bool>> {
    let mut outcomes = vec![vec![true; writers]];
    outcomes.extend((0..writers).map(|w| (0..writers).map(|v| v != w).collect()));
    outcomes
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Running,
    Committed,
    RolledBack,
}

/// Writer connections as the application role, a reader, and one tenant,
/// reused by every run.
struct Harness {
    writers: Vec<PgConnection>,
    reader: LogReader,
    owner: PgPool,
    tenant: TenantId,
    // Last: dropped (and the database with it) after the connections.
    _db: TestDb,
}

impl Harness {
    async fn new(writers: usize) -> Self {
        let db = TestDb::new().await;
        let mut options = db.connect_options();
        options.max_connections = 2;
        let reader = LogReader::connect(&options, Arc::new(Upcasters::new()))
            .await
            .expect("connect reader");
        let owner = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(db.options.clone())
            .await
            .expect("connect as owner");
        let mut conns = Vec::new();
        for _ in 0..writers {
            conns.push(db.connection_as("deedlog_app").await);
        }
        let tenant = TenantId::from_uuid(Uuid::now_v7());
        let register = format!(
            "{}; INSERT INTO tenants (tenant_id) VALUES ('{tenant}'); COMMIT",
            begin_for(tenant)
        );
        conns[0]
            .execute(register.as_str())
            .await
            .expect("register tenant");
        Self {
            writers: conns,
            reader,
            owner,
            tenant,
            _db: db,
        }
    }

    /// The last position drawn so far, committed or not: a run subscribes
    /// after it, so only its own positions (and gaps) are in play.
    async fn head(&self) -> u64 {
        let last: Option<i64> =
            sqlx::query_scalar("SELECT pg_sequence_last_value('events_position_seq')")
                .fetch_one(&self.owner)
                .await
                .expect("read the position sequence");
        last.map_or(0, |p| u64::try_from(p).expect("positions are positive"))
    }

    async fn begin(&mut self, writer: usize) {
        self.writers[writer]
            .execute(begin_for(self.tenant).as_str())
            .await
            .expect("begin a tenant transaction");
    }

    async fn take_id(&mut self, writer: usize) -> u64 {
        let xid: String = sqlx::query_scalar("SELECT pg_current_xact_id()::text")
            .fetch_one(&mut self.writers[writer])
            .await
            .expect("take a transaction id");
        xid.parse().expect("a transaction id is an integer")
    }

    /// Appends one event to a fresh stream: draws one position.
    async fn draw(&mut self, writer: usize) -> u64 {
        let row = sqlx::query(
            "SELECT outcome, positions FROM append_events($1, $2, 'property', NULL, $3, \
             'user:interleaving', $4, $5, NULL, NULL, now(), ARRAY['PriceChanged'], ARRAY[1], \
             ARRAY['{\"n\": 1}']::json[])",
        )
        .bind(self.tenant.as_uuid())
        .bind(Uuid::now_v7())
        .bind(Uuid::now_v7())
        .bind(Uuid::now_v7())
        .bind(Uuid::now_v7())
        .fetch_one(&mut self.writers[writer])
        .await
        .expect("call append_events");
        let outcome: String = row.get("outcome");
        assert_eq!(outcome, "appended");
        let positions: Vec<i64> = row.get("positions");
        assert_eq!(positions.len(), 1, "one event, one position");
        u64::try_from(positions[0]).expect("positions are positive")
    }

    async fn end(&mut self, writer: usize, commit: bool) {
        let sql = if commit { "COMMIT" } else { "ROLLBACK" };
        self.writers[writer]
            .execute(sql)
            .await
            .expect("end the transaction");
    }

    /// Steps the writers through `order` (a writer's index per step), writer
    /// w committing when `commits[w]`, reading between every step; then
    /// reads until the last committed position is delivered.
    async fn run(&mut self, order: &[usize], commits: &[bool]) -> Result<(), String> {
        let writers = commits.len();
        let head = self.head().await;
        let mut subscription = self.reader.subscribe(head, options());
        let mut run = Run::new(writers);
        for writer in 0..writers {
            self.begin(writer).await;
        }
        run.read(&mut subscription).await;
        let mut taken = vec![0; writers];
        for &writer in order {
            let name = NAMES[writer];
            match taken[writer] {
                0 => {
                    let xid = self.take_id(writer).await;
                    run.log.push(format!("{name} take-id ({xid})"));
                }
                1 => {
                    let position = self.draw(writer).await;
                    run.drawn.push((writer, position));
                    run.log.push(format!("{name} draw ({position})"));
                }
                _ => {
                    let commit = commits[writer];
                    self.end(writer, commit).await;
                    run.states[writer] = if commit {
                        State::Committed
                    } else {
                        State::RolledBack
                    };
                    run.log.push(format!(
                        "{name} {}",
                        if commit { "commit" } else { "rollback" }
                    ));
                }
            }
            taken[writer] += 1;
            run.read(&mut subscription).await;
        }
        run.settle(&mut subscription, head, &self.owner).await;
        run.verdict()
    }
}

/// The cluster's open transactions that hold an id, oldest first: any of
/// them older than the reader's id keeps a gap from settling.
async fn open_write_transactions(owner: &PgPool) -> String {
    sqlx::query_scalar::<_, Option<String>>(
        "SELECT string_agg(format('pid %s in %s, id %s, open %s: %s', pid, datname, backend_xid, \
         date_trunc('second', now() - xact_start), left(query, 60)), '; ' ORDER BY xact_start) \
         FROM pg_stat_activity WHERE backend_xid IS NOT NULL",
    )
    .fetch_one(owner)
    .await
    .map_or_else(
        |e| format!("unknown ({e})"),
        |list| list.unwrap_or_else(|| "none".to_owned()),
    )
}

/// How the store begins a tenant's transaction (`EventStore::begin_for_tenant`).
fn begin_for(tenant: TenantId) -> String {
    format!("BEGIN; SELECT set_config('deedlog.tenant_id', '{tenant}', true)")
}

fn options() -> SubscriptionOptions {
    SubscriptionOptions {
        batch_size: 100,
        poll_interval: Duration::from_millis(500),
    }
}

/// What one run did and what the reader delivered, checked read by read.
struct Run {
    states: Vec<State>,
    /// Positions in the order they were drawn, with their writer.
    drawn: Vec<(usize, u64)>,
    delivered: Vec<u64>,
    /// Steps and non-empty reads, in order: what a failure prints.
    log: Vec<String>,
    violations: Vec<String>,
}

impl Run {
    fn new(writers: usize) -> Self {
        Self {
            states: vec![State::Running; writers],
            drawn: Vec::new(),
            delivered: Vec::new(),
            log: Vec::new(),
            violations: Vec::new(),
        }
    }

    /// One `poll`, each delivered position checked against what the writers
    /// hold at this moment.
    async fn read(&mut self, subscription: &mut Subscription) {
        let batch: Vec<u64> = match subscription.poll().await {
            Ok(events) => events.iter().map(|e| e.position).collect(),
            Err(error) => panic!("poll after {}: {error}", self.log.join(", ")),
        };
        if batch.is_empty() {
            return;
        }
        self.log.push(format!("read {batch:?}"));
        for position in batch {
            self.check(position);
            self.delivered.push(position);
        }
    }

    fn check(&mut self, position: u64) {
        if let Some(&last) = self.delivered.last() {
            if position <= last {
                self.violations.push(format!(
                    "delivered {position} after {last}: repeated or out of order"
                ));
            }
        }
        match self.drawn.iter().find(|(_, p)| *p == position) {
            Some(&(writer, _)) if self.states[writer] != State::Committed => {
                self.violations.push(format!(
                    "delivered {position} of {} while {:?}",
                    NAMES[writer], self.states[writer]
                ));
            }
            Some(_) => {}
            None => self.violations.push(format!(
                "delivered {position}, which no writer of this run drew"
            )),
        }
        // Everything below a delivered position that can still commit (or
        // has) must have been delivered already: past it, it never will be.
        for &(writer, earlier) in &self.drawn {
            let state = self.states[writer];
            if earlier < position
                && state != State::RolledBack
                && !self.delivered.contains(&earlier)
            {
                self.violations.push(format!(
                    "delivered {position} while {earlier} of {} ({state:?}) was not: skipped",
                    NAMES[writer]
                ));
            }
        }
    }

    fn committed(&self) -> Vec<u64> {
        let mut committed: Vec<u64> = self
            .drawn
            .iter()
            .filter(|(w, _)| self.states[*w] == State::Committed)
            .map(|(_, p)| *p)
            .collect();
        committed.sort_unstable();
        committed
    }

    /// Reads, with short pauses, until the last committed position is
    /// delivered (a rolled-back gap takes a read or two to settle).
    async fn settle(&mut self, subscription: &mut Subscription, head: u64, owner: &PgPool) {
        let last = self.committed().last().copied().unwrap_or(head);
        let deadline = Instant::now() + SETTLE_TIMEOUT;
        while subscription.position() < last {
            if Instant::now() > deadline {
                self.violations.push(format!(
                    "still at {} after {SETTLE_TIMEOUT:?}; last committed {last}; \
                     write transactions open in the cluster: {}",
                    subscription.position(),
                    open_write_transactions(owner).await
                ));
                return;
            }
            tokio::time::sleep(SETTLE_PAUSE).await;
            self.read(subscription).await;
        }
    }

    fn verdict(mut self) -> Result<(), String> {
        let committed = self.committed();
        if self.delivered != committed {
            self.violations.push(format!(
                "delivered {:?}, committed {committed:?}",
                self.delivered
            ));
        }
        if self.violations.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "order: {}\n    {}",
                self.log.join(", "),
                self.violations.join("\n    ")
            ))
        }
    }
}

/// Each of `orders` of `writers` writers under each of `outcomes`, one
/// after another on one database.
async fn every_order(writers: usize, orders: &[Vec<usize>], outcomes: &[Vec<bool>]) {
    let mut harness = Harness::new(writers).await;
    let started = Instant::now();
    let mut runs = 0;
    let mut failures = Vec::new();
    'outcomes: for commits in outcomes {
        for order in orders {
            runs += 1;
            if let Err(failure) = harness.run(order, commits).await {
                failures.push(failure);
                if failures.len() == MAX_FAILURES {
                    break 'outcomes;
                }
            }
        }
    }
    eprintln!(
        "{runs} runs of {writers} writers ({} orders × {} outcomes) in {:.1?}",
        orders.len(),
        outcomes.len(),
        started.elapsed()
    );
    assert!(
        failures.is_empty(),
        "{} failing order(s) (stopping at {MAX_FAILURES}) in {runs} runs:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn the_orders_are_all_interleavings_of_three_steps_per_writer() {
    // (3n)! / (3!)^n: 6!/36 and 9!/216.
    assert_eq!(interleavings(2).len(), 20);
    assert_eq!(interleavings(3).len(), 1680);
    assert_eq!(every_outcome(2).len(), 4);
    assert_eq!(all_commit_or_one_rollback(3).len(), 4);
}

#[test]
fn every_interleaving_is_one_taking_ids_in_name_order_with_writers_renamed() {
    let canonical = ids_taken_in_name_order(interleavings(3));
    assert_eq!(canonical.len(), 1680 / 6);
    for order in interleavings(3) {
        assert!(
            canonical.contains(&renamed_by_first_step(&order)),
            "{order:?}"
        );
    }
}

#[tokio::test]
async fn two_writers_in_every_order_with_every_outcome_deliver_each_commit_once_in_order() {
    every_order(2, &interleavings(2), &every_outcome(2)).await;
}

#[tokio::test]
async fn three_writers_in_every_order_all_committing_deliver_each_commit_once_in_order() {
    let orders = ids_taken_in_name_order(interleavings(3));
    every_order(3, &orders, &all_commit_or_one_rollback(3)[..1]).await;
}

#[tokio::test]
async fn three_writers_in_every_order_one_rolling_back_deliver_each_commit_once_in_order() {
    let orders = ids_taken_in_name_order(interleavings(3));
    every_order(3, &orders, &all_commit_or_one_rollback(3)[1..]).await;
}

/// How often the named case is forced. Another test's transaction ending
/// between Y's commit and the read lifts `xmax` past X's id and hides the
/// case from that attempt (X is then listed in flight); on a quiet cluster
/// every attempt shows it.
const XMAX_CASE_ATTEMPTS: usize = 10;

/// The id ≥ `xmax` case of issue 15: Y takes its id first, X a newer one; X
/// draws m and Y draws m+1 and commits. A snapshot now shows m+1 but not m,
/// and lists nothing in flight: X's id is not below `xmax`, one past the
/// newest completed id (Y's). The reader must hold m+1 back until X ends.
#[tokio::test]
async fn a_newer_transaction_holding_an_earlier_position_is_not_skipped_when_an_older_one_commits_first(
) {
    let mut harness = Harness::new(2).await;
    let (x, y) = (0, 1);
    for attempt in 1..=XMAX_CASE_ATTEMPTS {
        let head = harness.head().await;
        let mut subscription = harness.reader.subscribe(head, options());
        harness.begin(x).await;
        harness.begin(y).await;
        let y_id = harness.take_id(y).await;
        let x_id = harness.take_id(x).await;
        assert!(x_id > y_id, "X's id {x_id} is newer than Y's {y_id}");
        let m = harness.draw(x).await;
        let after_m = harness.draw(y).await;
        assert_eq!(after_m, m + 1, "nothing else draws positions here");
        harness.end(y, true).await;
        let snapshot: String = sqlx::query_scalar("SELECT pg_current_snapshot()::text")
            .fetch_one(&harness.owner)
            .await
            .expect("read a snapshot");

        let mut early = Vec::new();
        for _ in 0..3 {
            let batch = subscription.poll().await.expect("poll");
            early.extend(batch.iter().map(|e| e.position));
        }
        assert!(
            early.is_empty(),
            "attempt {attempt}: delivered {early:?} while X (id {x_id}) still holds {m}; \
             Y (id {y_id}) committed {after_m}; a snapshot just before the reads: {snapshot} \
             (xmin:xmax:ids in flight below xmax)"
        );

        harness.end(x, true).await;
        let mut delivered = Vec::new();
        let deadline = Instant::now() + SETTLE_TIMEOUT;
        while subscription.position() < after_m && Instant::now() < deadline {
            let batch = subscription.poll().await.expect("poll");
            delivered.extend(batch.iter().map(|e| e.position));
            if batch.is_empty() {
                tokio::time::sleep(SETTLE_PAUSE).await;
            }
        }
        assert_eq!(
            delivered,
            [m, after_m],
            "attempt {attempt}: m, then m+1, once each; write transactions open: {}",
            open_write_transactions(&harness.owner).await
        );
    }
}

/// Three events, the third refused by the database: the `INSERT` of the
/// first two has already run when the third fails, so only atomicity keeps
/// them out.
fn three_events_third_poisoned() -> Vec<NewEvent> {
    (1..=3)
        .map(|n| {
            let mut payload = json!({ "n": n });
            if n == 3 {
                payload["poison"] = json!(true);
            }
            NewEvent::new("PriceChanged", 1, &payload).expect("serialises")
        })
        .collect()
}

/// What a refused append must leave: no event of the stream, no command row.
async fn assert_nothing_stored(db: &TestDb, stream: StreamId, command: Uuid) {
    let owner = db.owner_pool().await;
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE stream_id = $1")
        .bind(stream.as_uuid())
        .fetch_one(&owner)
        .await
        .expect("count events");
    let commands: i64 = sqlx::query_scalar("SELECT count(*) FROM commands WHERE command_id = $1")
        .bind(command)
        .fetch_one(&owner)
        .await
        .expect("count commands");
    owner.close().await;
    assert_eq!((events, commands), (0, 0), "events and command rows stored");
}

#[tokio::test]
async fn an_append_whose_third_event_breaks_a_constraint_stores_none_of_them() {
    let db = TestDb::new().await;
    // The store refuses, before the database, every payload the schema's own
    // checks would: a constraint that only the database enforces is added
    // to this test's database to make the third event fail mid-statement.
    sqlx::query(
        "ALTER TABLE events ADD CONSTRAINT no_poison_in_tests \
         CHECK (json_typeof(payload -> 'poison') IS NULL)",
    )
    .execute(&db.owner_pool().await)
    .await
    .expect("add the poison check");
    let mut options = db.connect_options();
    options.max_connections = 2;
    let store = EventStore::connect(&options, Arc::new(Upcasters::new()))
        .await
        .expect("connect store");
    let tenant = support::tenant(&store).await;
    let stream = new_stream();
    let request = AppendRequest {
        fingerprint: None,
        stream_id: stream,
        stream_type: "property".to_owned(),
        expected: ExpectedVersion::NoStream,
        metadata: support::metadata(tenant),
        events: three_events_third_poisoned(),
    };

    let error = store
        .append(&request)
        .await
        .expect_err("the third event is refused");
    assert!(
        matches!(
            &error,
            Error::Database {
                context: "append events",
                ..
            }
        ),
        "{error:?}"
    );
    assert!(!error.is_transient(), "retrying cannot help: {error}");
    let text = error.to_string();
    assert!(
        text.contains("append events") && text.contains("no_poison_in_tests"),
        "names what failed and the constraint: {text}"
    );
    assert_nothing_stored(&db, stream, request.metadata.command_id.as_uuid()).await;
    assert!(store
        .read_stream(tenant, stream, StreamQuery::ALL)
        .await
        .expect("read stream")
        .is_empty());

    // The stream is still new: the same events without the poison append
    // as versions 1 to 3, and the log reads past the burnt positions.
    let mut retry = request.clone();
    retry.metadata = support::metadata(tenant);
    retry.events.truncate(2);
    retry.events.push(support::event("PriceChanged", 3));
    let outcome = store.append(&retry).await.expect("append without poison");
    assert_eq!(outcome.stream_version, 3);
    let reader = db.reader().await;
    let mut read = Vec::new();
    // A read that waited out a gap may stop at the first event after it.
    loop {
        let batch = reader
            .read_all(read.last().copied().unwrap_or(0), 100)
            .await
            .expect("read all");
        if batch.is_empty() {
            break;
        }
        read.extend(batch.iter().map(|e| e.position));
    }
    assert_eq!(read, outcome.positions);
}

#[tokio::test]
async fn append_events_whose_third_event_breaks_a_check_stores_none_of_them() {
    let (db, _, tenant, stream) = support::seeded(0).await;
    let command = Uuid::now_v7();
    // Called as the application role, as the store does, but with a payload
    // the store would have refused: the third is an array, and the events
    // table checks that a payload is an object.
    let mut app = db.connection_as("deedlog_app").await;
    let error = sqlx::query(
        "SELECT * FROM append_events($1, $2, 'property', 0, $3, 'user:interleaving', $4, $4, \
         NULL, NULL, now(), ARRAY['PriceChanged', 'PriceChanged', 'PriceChanged'], \
         ARRAY[1, 1, 1], ARRAY['{\"n\": 1}', '{\"n\": 2}', '[3]']::json[])",
    )
    .bind(tenant.as_uuid())
    .bind(stream.as_uuid())
    .bind(command)
    .bind(Uuid::now_v7())
    .fetch_one(&mut app)
    .await
    .expect_err("the third payload breaks a check");
    let db_error = error.as_database_error().expect("a database error");
    assert_eq!(db_error.code().as_deref(), Some("23514"), "{db_error}");
    assert_eq!(db_error.constraint(), Some("events_payload_check"));
    assert!(
        db_error.message().contains("violates check constraint"),
        "{db_error}"
    );
    drop(app);
    assert_nothing_stored(&db, stream, command).await;
}
