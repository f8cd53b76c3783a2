//! Spans of the projector's work on events that carry a trace context: one
//! per event, the child of the span that appended it, lasting as long as
//! the batch transaction that applied it. A GraphQL mutation's trace thus
//! ends where its read models changed.

use deedlog_eventstore::RecordedEvent;
use tracing::Span;

/// Spans for the traced events of a batch of `projection` (none when spans
/// are not exported); drop them once the batch is committed.
pub fn event_spans(projection: &str, events: &[RecordedEvent]) -> Vec<Span> {
    if !deedlog_runtime::telemetry::exporting() {
        return Vec::new();
    }
    events
        .iter()
        .filter_map(|event| {
            let trace = event.trace.as_ref()?;
            let span = tracing::info_span!(
                parent: None,
                "project",
                otel.name = format!("project {} {}", projection, event.event_type),
                deedlog.component = "projector",
                projection,
                event.position = event.position,
                event.r#type = %event.event_type,
                batch.events = events.len(),
            );
            deedlog_runtime::telemetry::follow(&span, &trace.traceparent);
            Some(span)
        })
        .collect()
}
