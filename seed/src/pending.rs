//! The properties of a tenant whose story is still to send, found a chunk at
//! a time as the driver asks for them: a seed of any size holds at most
//! [`CHUNK`] properties' worth of them (and of their last command ids), not
//! one per property of the tenant.
//!
//! A story is finished when its last command is on record: its steps are
//! sent in order, and every step appends at least one event, a planned
//! refusal included.

use super::plan::TenantPlan;
use super::resume;
use super::Progress;
use deedlog_eventstore::LogReader;
use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use uuid::Uuid;

/// Properties looked up in the log at once.
pub const CHUNK: u64 = 1_000;

/// What a previous run left on record.
pub trait Recorded {
    /// The ones among `ids` that the log has handled.
    fn recorded(&self, ids: &[Uuid]) -> impl Future<Output = anyhow::Result<HashSet<Uuid>>> + Send;
}

impl Recorded for LogReader {
    fn recorded(&self, ids: &[Uuid]) -> impl Future<Output = anyhow::Result<HashSet<Uuid>>> + Send {
        resume::recorded(self, ids)
    }
}

/// Where the search for a tenant's unsent stories is.
#[derive(Debug)]
pub struct Pending {
    tenant: Arc<TenantPlan>,
    /// The first property not looked up yet.
    next: u64,
    /// Properties of the chunk looked up last whose stories are to send.
    ready: VecDeque<u64>,
    /// Properties found on record so far.
    on_record: u64,
}

impl Pending {
    /// Nothing looked up yet.
    pub fn new(tenant: Arc<TenantPlan>) -> Self {
        Self {
            tenant,
            next: 0,
            ready: VecDeque::new(),
            on_record: 0,
        }
    }

    pub fn tenant(&self) -> &Arc<TenantPlan> {
        &self.tenant
    }

    /// Properties found on record so far; all of them once [`Pending::next`]
    /// has said there are no more.
    pub fn on_record(&self) -> u64 {
        self.on_record
    }

    /// Properties looked up but not handed out yet (at most [`CHUNK`]).
    pub fn held(&self) -> usize {
        self.ready.len()
    }

    /// Whether any story is left to send: looks up chunks until it finds
    /// one (kept for [`Pending::next`]) or none is left. Without a log,
    /// nothing is on record.
    pub async fn any<R: Recorded + Sync>(
        &mut self,
        log: Option<&R>,
        progress: &Progress,
    ) -> anyhow::Result<bool> {
        while self.ready.is_empty() && self.next < self.tenant.properties {
            self.look_up(log, progress).await?;
        }
        Ok(!self.ready.is_empty())
    }

    /// The next property whose story is not on record, in order.
    pub async fn next<R: Recorded + Sync>(
        &mut self,
        log: Option<&R>,
        progress: &Progress,
    ) -> anyhow::Result<Option<u64>> {
        self.any(log, progress).await?;
        Ok(self.ready.pop_front())
    }

    /// Looks up the next chunk; the ones on record count as done.
    async fn look_up<R: Recorded + Sync>(
        &mut self,
        log: Option<&R>,
        progress: &Progress,
    ) -> anyhow::Result<()> {
        let start = self.next;
        let end = start.saturating_add(CHUNK).min(self.tenant.properties);
        self.next = end;
        let Some(log) = log else {
            self.ready.extend(start..end);
            return Ok(());
        };
        let last: Vec<Uuid> = (start..end)
            .map(|i| last_command(&self.tenant, i))
            .collect();
        let done = log.recorded(&last).await?;
        self.ready.extend(
            (start..end)
                .zip(&last)
                .filter(|(_, id)| !done.contains(id))
                .map(|(i, _)| i),
        );
        let found = (end - start) - (self.ready.len() as u64);
        self.on_record += found;
        progress.properties_done.fetch_add(found, Ordering::Relaxed);
        Ok(())
    }
}

/// The id of the last command of property `index`'s story.
fn last_command(tenant: &TenantPlan, index: u64) -> Uuid {
    let story = super::story::story(tenant, index);
    story
        .steps
        .last()
        .map_or(story.property, |step| step.command_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A log on which the stories of every third property, and all of
    /// properties 2,000 to 3,499, are finished; it remembers the most
    /// ids it was asked about at once.
    struct Fake {
        finished: HashSet<Uuid>,
        most_asked: Mutex<usize>,
    }

    impl Fake {
        fn new(tenant: &TenantPlan) -> Self {
            let finished = (0..tenant.properties)
                .filter(|i| Fake::done(*i))
                .map(|i| last_command(tenant, i))
                .collect();
            Self {
                finished,
                most_asked: Mutex::new(0),
            }
        }

        fn done(index: u64) -> bool {
            index.is_multiple_of(3) || (2_000..3_500).contains(&index)
        }
    }

    impl Recorded for Fake {
        fn recorded(
            &self,
            ids: &[Uuid],
        ) -> impl Future<Output = anyhow::Result<HashSet<Uuid>>> + Send {
            let mut most = self.most_asked.lock().expect("lock");
            *most = (*most).max(ids.len());
            let done = ids
                .iter()
                .filter(|id| self.finished.contains(id))
                .copied()
                .collect();
            std::future::ready(Ok(done))
        }
    }

    #[tokio::test]
    async fn unsent_stories_come_a_chunk_at_a_time_and_none_on_record_comes_again() {
        let properties = 7_777;
        let tenant = Arc::new(super::super::plan::tenants(5, 1, properties).remove(0));
        let log = Fake::new(&tenant);
        let progress = Progress::default();
        let mut pending = Pending::new(tenant.clone());
        assert!(pending.any(Some(&log), &progress).await.expect("look up"));
        let (mut sent, mut most_held) = (Vec::new(), 0);
        while let Some(index) = pending.next(Some(&log), &progress).await.expect("look up") {
            most_held = most_held.max(pending.held() + 1);
            sent.push(index);
        }
        let unsent: Vec<u64> = (0..properties).filter(|i| !Fake::done(*i)).collect();
        assert_eq!(sent, unsent, "every unsent story once, in order");
        assert_eq!(pending.on_record(), properties - unsent.len() as u64);
        assert_eq!(
            progress.properties_done.load(Ordering::Relaxed),
            pending.on_record()
        );
        let asked = *log.most_asked.lock().expect("lock");
        assert!(
            asked as u64 <= CHUNK && most_held as u64 <= CHUNK,
            "held {most_held} properties and asked about {asked} at once: \
             memory would grow with the number of properties"
        );
    }

    #[tokio::test]
    async fn without_a_log_every_story_is_to_send_and_a_huge_tenant_costs_one_chunk() {
        let mut tenant = super::super::plan::tenants(5, 1, 10).remove(0);
        tenant.properties = u64::MAX;
        let progress = Progress::default();
        let mut pending = Pending::new(Arc::new(tenant));
        for expected in 0..3 {
            let next = pending.next(None::<&LogReader>, &progress).await;
            assert_eq!(next.expect("no log to fail"), Some(expected));
        }
        assert!(pending.held() as u64 <= CHUNK);
    }
}
