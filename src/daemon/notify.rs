//! Talking to systemd (`Type=notify`): READY=1 once the database is migrated and the inbox is
//! connected, RELOADING=1 and STOPPING=1 around a reload or stop, STATUS= lines, and WATCHDOG=1
//! pings sent only while every loop keeps its promise (see [`super::health`]). Outside systemd
//! (no `$NOTIFY_SOCKET`) every call does nothing.

use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::health::Health;

/// Where systemd listens, read once at start.
#[derive(Clone, Debug, Default)]
pub struct Systemd {
    socket: Option<String>,
    /// `WatchdogSec=` of the unit, when it is meant for this process.
    pub watchdog: Option<Duration>,
}

impl Systemd {
    /// From `$NOTIFY_SOCKET`, `$WATCHDOG_USEC` and `$WATCHDOG_PID`.
    pub fn from_environment() -> Systemd {
        // The daemon's one place to read systemd's variables.
        #[allow(clippy::disallowed_methods)]
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let for_us = var("WATCHDOG_PID").is_none_or(|pid| pid.parse() == Ok(std::process::id()));
        let watchdog = var("WATCHDOG_USEC")
            .and_then(|us| us.parse::<u64>().ok())
            .filter(|us| *us > 0 && for_us)
            .map(Duration::from_micros);
        Systemd { socket: var("NOTIFY_SOCKET"), watchdog }
    }

    /// Sends one notification; failures are logged, never fatal.
    pub fn notify(&self, state: &str) {
        let Some(socket) = &self.socket else { return };
        if let Err(e) = send(socket, state) {
            warn!(error = %e, "cannot notify systemd");
        }
    }
}

fn send(socket: &str, state: &str) -> std::io::Result<usize> {
    let out = UnixDatagram::unbound()?;
    match socket.strip_prefix('@') {
        Some(name) => {
            use std::os::linux::net::SocketAddrExt;
            let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())?;
            out.send_to_addr(state.as_bytes(), &addr)
        }
        None => out.send_to(state.as_bytes(), PathBuf::from(socket)),
    }
}

/// Pings the watchdog at half its period while no loop is overdue; stops pinging (and says which
/// loop) when one is, so systemd restarts the service.
pub async fn watchdog(systemd: Systemd, health: Arc<Health>, cancel: CancellationToken) {
    let Some(period) = systemd.watchdog else { return };
    info!(period_secs = period.as_secs_f64(), "systemd watchdog on");
    let mut stuck_before = false;
    loop {
        let stuck = health.overdue(Instant::now());
        if stuck.is_empty() {
            systemd.notify("WATCHDOG=1");
            stuck_before = false;
        } else if !stuck_before {
            warn!(loops = ?stuck, "a loop is stuck; no more watchdog pings, systemd will restart medrec");
            systemd.notify(&format!("STATUS=stuck: {}", stuck.join(", ")));
            stuck_before = true;
        }
        tokio::select! {
            _ = tokio::time::sleep(period / 2) => {}
            _ = cancel.cancelled() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notifications_reach_a_path_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let listener = UnixDatagram::bind(&path).unwrap();
        let systemd = Systemd { socket: Some(path.display().to_string()), watchdog: None };
        systemd.notify("READY=1\nSTATUS=ready");
        let mut buf = [0u8; 64];
        let n = listener.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"READY=1\nSTATUS=ready");
    }

    #[test]
    fn notifications_reach_an_abstract_socket() {
        use std::os::linux::net::SocketAddrExt;
        let name = format!("medrec-test-{}", std::process::id());
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let listener = UnixDatagram::bind_addr(&addr).unwrap();
        Systemd { socket: Some(format!("@{name}")), watchdog: None }.notify("WATCHDOG=1");
        let mut buf = [0u8; 64];
        let n = listener.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"WATCHDOG=1");
    }
}
