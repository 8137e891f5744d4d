//! The server under measurement in a child process (this benchmark binary again, with
//! [`CHILD_ENV`] set), so that its resident memory is its own.

use std::process::Stdio;

use app::store::Store;
use server::AppState;
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, BufReader};

/// Set in the child: the database it serves.
const CHILD_ENV: &str = "BENCH_CHILD_DB";

/// In the child: the database to serve.
pub fn child_database() -> Option<String> {
    std::env::var(CHILD_ENV).ok()
}

/// The child's body: serves the store at `url` (with the state `configure` makes) until its stdin
/// closes; prints its base URL first.
pub async fn child(url: &str, configure: fn(AppState) -> AppState) -> anyhow::Result<()> {
    let store = Store::open(url).await?;
    let (base, stop, served) = super::serve_with(store, configure).await?;
    println!("{base}");
    let mut sink = Vec::new();
    tokio::io::stdin().read_to_end(&mut sink).await?;
    let _ = stop.send(());
    served.await??;
    Ok(())
}

/// The parent's handle on the child server.
pub struct Server {
    child: tokio::process::Child,
    pub base: String,
}

impl Server {
    pub async fn start(url: &str) -> anyhow::Result<Self> {
        let mut child = tokio::process::Command::new(std::env::current_exe()?)
            .env(CHILD_ENV, url)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| anyhow::anyhow!("no stdout"))?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).await?;
        let base = line.trim().to_string();
        anyhow::ensure!(base.starts_with("http://"), "the server said {line:?}");
        Ok(Self { child, base })
    }

    /// The server's resident set now (`VmRSS`), in KiB.
    pub fn rss_kib(&self) -> anyhow::Result<u64> {
        self.status_kib("VmRSS:")
    }

    /// The server's largest resident set so far (`VmHWM`), in KiB.
    pub fn peak_rss_kib(&self) -> anyhow::Result<u64> {
        self.status_kib("VmHWM:")
    }

    fn status_kib(&self, field: &str) -> anyhow::Result<u64> {
        let pid = self
            .child
            .id()
            .ok_or_else(|| anyhow::anyhow!("server gone"))?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches(" kB").parse().ok())
            .ok_or_else(|| anyhow::anyhow!("no {field}"))
    }

    /// Closes its stdin, which stops it, and waits.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        drop(self.child.stdin.take());
        let status = self.child.wait().await?;
        anyhow::ensure!(status.success(), "server exited with {status}");
        Ok(())
    }
}
