//! One cancellation tree per process: the first SIGINT or SIGTERM cancels the
//! root token so every part drains; a second signal exits at once.

/// The root token's type, so callers can pass it on without naming tokio-util.
pub use tokio_util::sync::CancellationToken;

/// Exit code used when a second signal cuts the drain short (128 + SIGINT).
const FORCED_EXIT_CODE: i32 = 130;

/// Returns the root token, cancelled on the first SIGINT/SIGTERM.
///
/// Must be called inside a Tokio runtime: it spawns the signal listener.
pub fn shutdown_on_signals() -> CancellationToken {
    let root = CancellationToken::new();
    let token = root.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutdown requested; draining (send the signal again to exit at once)");
        token.cancel();
        wait_for_signal().await;
        tracing::warn!("second shutdown signal; exiting without draining");
        std::process::exit(FORCED_EXIT_CODE);
    });
    root
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(error) => {
                tracing::warn!(%error, "install SIGTERM handler; only SIGINT will stop the process");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn sigterm_cancels_the_root_token() {
        let root = shutdown_on_signals();
        let child = root.child_token();
        // Let the listener install its handlers before the signal arrives.
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!root.is_cancelled());
        let status = std::process::Command::new("kill")
            .args(["-TERM", &std::process::id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
        tokio::time::timeout(Duration::from_secs(5), child.cancelled())
            .await
            .expect("the token is cancelled after SIGTERM");
    }
}
