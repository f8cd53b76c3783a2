//! Commands that change several records at once (register a tenant: claim
//! its slug, create it, set its admin's password; accept an invitation:
//! activate the user, set the password). Each record's part is decided on
//! its own state first, so every rule is checked before anything is
//! stored; then all parts are appended in one transaction, or none.

use crate::error::Error;
use crate::executor::{append_request, executed, Executed, Executor, Target};
use crate::request::CommandEnvelope;
use deedlog_eventstore::AppendRequest;
use deedlog_kernel::{Decider, DomainEvent, Refusal};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::future::Future;

/// One record's part of a command that changes several.
#[derive(Debug)]
pub enum Part {
    /// Events to append, at the version they were decided on.
    Append {
        target: Target,
        request: Box<AppendRequest>,
    },
    /// Nothing to append: a no-op, or this part of a repeated command
    /// (what it did the first time).
    Done(Executed<()>),
}

impl Executor {
    /// Decides `envelope`'s part for `target` on the record's current state
    /// without appending it. A refusal is returned unless the command id
    /// already did this part (a repeat: its first outcome).
    pub async fn prepare<D>(
        &self,
        envelope: &CommandEnvelope,
        target: Target,
        command: impl FnOnce(&D::State) -> Result<D::Command, Error>,
    ) -> Result<Part, Error>
    where
        D: Decider,
        D::Event: Serialize + DeserializeOwned + DomainEvent,
        D::Error: Refusal,
    {
        let tenant = envelope.metadata.tenant_id;
        let (state, version) = self.load::<D>(tenant, target).await?;
        let decided = command(&state)
            .and_then(|c| D::decide(&state, &c).map_err(|e| crate::executor::refusal(&e)));
        match decided {
            Ok(events) if !events.is_empty() => Ok(Part::Append {
                target,
                request: Box::new(
                    append_request(self.store(), envelope, target, version, &events).await?,
                ),
            }),
            other => {
                if let Some(first) = self.first_outcome::<D::Event>(envelope, target).await? {
                    return Ok(Part::Done(without_events(first)));
                }
                other?;
                Ok(Part::Done(Executed {
                    stream_id: target.stream_id,
                    version,
                    position: 0,
                    duplicate: false,
                    events: Vec::new(),
                }))
            }
        }
    }

    /// What `envelope`'s part for `target` did, if its command id ran
    /// before: completes the answer to a repeat that stopped at an earlier part.
    pub async fn repeated(
        &self,
        envelope: &CommandEnvelope,
        target: Target,
    ) -> Result<Option<Executed<()>>, Error> {
        let first = self
            .first_outcome::<serde_json::Value>(envelope, target)
            .await?;
        Ok(first.map(without_events))
    }

    /// Two parts of one command where the first decides whether anything
    /// happens: when `first` is already done (a repeat), the answer is its
    /// outcome with the second part's (`second_envelope` on `second_target`)
    /// if that ran; otherwise `second` prepares the second part and both are
    /// appended in one transaction.
    pub async fn first_then<F, Fut>(
        &self,
        first: Part,
        second_envelope: &CommandEnvelope,
        second_target: Target,
        second: F,
    ) -> Result<Vec<Executed<()>>, Error>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Part, Error>>,
    {
        if let Part::Done(repeat) = first {
            let repeated = self.repeated(second_envelope, second_target).await?;
            return Ok([Some(repeat), repeated].into_iter().flatten().collect());
        }
        let second = second().await?;
        self.append_together(vec![first, second], false).await
    }

    /// Appends the parts in one transaction (registering the tenant in it
    /// when `registers_tenant`), and answers each part's outcome in order.
    pub async fn append_together(
        &self,
        parts: Vec<Part>,
        registers_tenant: bool,
    ) -> Result<Vec<Executed<()>>, Error> {
        let requests: Vec<AppendRequest> = parts
            .iter()
            .filter_map(|part| match part {
                Part::Append { request, .. } => Some((**request).clone()),
                Part::Done(_) => None,
            })
            .collect();
        let appended = self
            .store()
            .append_together(&requests, registers_tenant)
            .await;
        for request in &requests {
            self.forget(request.metadata.tenant_id, request.stream_id);
        }
        let mut appended = appended?.into_iter();
        Ok(parts
            .into_iter()
            .map(|part| match part {
                Part::Done(done) => done,
                Part::Append { target, .. } => {
                    let outcome = appended.next().expect("one outcome per request");
                    executed(target, outcome, Vec::new())
                }
            })
            .collect())
    }

    /// Runs `attempt` again (with fresh states) when a concurrent writer
    /// changed one of its records first, as often as single-record commands
    /// are retried.
    pub async fn retry_on_conflict<T, F, Fut>(&self, mut attempt: F) -> Result<T, Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let mut retries = 0;
        loop {
            match attempt().await {
                Err(Error::Conflict { .. }) if retries < self.conflict_retries() => {
                    retries += 1;
                    crate::metrics::count_retry();
                    tokio::time::sleep(crate::executor::backoff(retries)).await;
                }
                other => return other,
            }
        }
    }
}

fn without_events<E>(done: Executed<E>) -> Executed<()> {
    Executed {
        stream_id: done.stream_id,
        version: done.version,
        position: done.position,
        duplicate: done.duplicate,
        events: Vec::new(),
    }
}
