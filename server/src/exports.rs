//! Server exports as jobs ("Export › New export…"): each runs in the background, writes its file
//! page by page into the exports folder under a temporary name (so memory does not grow with its
//! size), computes the file's SHA-256 as it goes, and is renamed to its final name only when
//! complete. The history in the store says Queued, Running, Completed (rows, size, SHA-256) or
//! Failed; a Completed file is deleted after the configured time (Expired).
//!
//! Nothing half-written is ever offered: a job that fails removes its temporary file, and at
//! start-up [`ExportJobs::recover`] marks the jobs a previous run left Queued or Running as Failed
//! and removes their temporary files.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use app::accounts::Actor;
use app::events::query::{Cursor, EventQuery};
use app::export::jobs::{ExportJob, ExportStatus, NewExport};
use app::export::pdf::Report;
use app::export::{Encoder, record_export};
use app::store::{ExportUpdate, Store, StoreError};
use chrono::Utc;
use flate2::Compression;
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt as _;
use tokio::sync::Semaphore;

/// Exports that run at once; others wait, Queued.
const CONCURRENT: usize = 2;

/// The export jobs of one server: where files go and how long they stay.
#[derive(Clone)]
pub struct ExportJobs {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    dir: PathBuf,
    keep: Duration,
    permits: Semaphore,
}

impl ExportJobs {
    /// Jobs writing into `dir` (created when needed), files kept for `keep` after completion.
    pub fn new(store: Store, dir: impl Into<PathBuf>, keep: Duration) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                dir: dir.into(),
                keep,
                permits: Semaphore::new(CONCURRENT),
            }),
        }
    }

    /// The finished file of `job`.
    pub fn file(&self, job: &ExportJob) -> PathBuf {
        self.inner
            .dir
            .join(format!("export-{}.{}", job.id, job.extension()))
    }

    fn part(&self, job: &ExportJob) -> PathBuf {
        self.inner
            .dir
            .join(format!("export-{}.{}.part", job.id, job.extension()))
    }

    /// Marks the jobs a previous run left Queued or Running as Failed and removes their temporary
    /// files; returns how many there were.
    pub async fn recover(&self) -> Result<usize, StoreError> {
        let store = &self.inner.store;
        let mut n = 0;
        for status in [ExportStatus::Queued, ExportStatus::Running] {
            for job in store.exports_in(status).await? {
                let _ = tokio::fs::remove_file(self.part(&job)).await;
                store
                    .update_export(
                        job.id,
                        &ExportUpdate::Failed {
                            rows: 0,
                            error: "the server stopped before the export was complete".into(),
                        },
                    )
                    .await?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Records the export Queued and starts it; `query` is the view (its limit is the page size).
    pub async fn submit(
        &self,
        new: NewExport,
        query: EventQuery,
        who: Actor,
    ) -> Result<ExportJob, StoreError> {
        let job = self.inner.store.create_export(&new).await?;
        let jobs = self.clone();
        let queued = job.clone();
        tokio::spawn(async move { jobs.run(queued, query, who).await });
        Ok(job)
    }

    async fn run(self, job: ExportJob, query: EventQuery, who: Actor) {
        let Ok(_permit) = self.inner.permits.acquire().await else {
            return;
        };
        let store = &self.inner.store;
        let outcome = match store.update_export(job.id, &ExportUpdate::Running).await {
            Ok(()) => self.write(&job, query).await,
            Err(e) => Err((0, e.to_string())),
        };
        let (update, rows, complete) = match outcome {
            Ok((rows, bytes, sha256)) => {
                let keep = chrono::Duration::from_std(self.inner.keep).unwrap_or_default();
                let expires_at = (Utc::now() + keep).timestamp_millis();
                let done = ExportUpdate::Completed {
                    rows,
                    bytes,
                    sha256,
                    expires_at,
                };
                (done, rows, true)
            }
            Err((rows, error)) => {
                tracing::error!(export = job.id, %error, "export failed");
                let _ = tokio::fs::remove_file(self.part(&job)).await;
                (ExportUpdate::Failed { rows, error }, rows, false)
            }
        };
        if let Err(e) = store.update_export(job.id, &update).await {
            tracing::error!(export = job.id, error = %e, "the export's state could not be saved");
        }
        let recorded = record_export(
            store,
            &who,
            job.format.as_str(),
            "server",
            &job.view,
            rows,
            complete,
        )
        .await;
        if let Err(e) = recorded {
            tracing::error!(error = %e, "the export could not be recorded");
        }
    }

    /// Writes the view's events into the job's temporary file, then renames it: (rows, bytes,
    /// SHA-256), or the rows written and why it failed.
    async fn write(
        &self,
        job: &ExportJob,
        mut q: EventQuery,
    ) -> Result<(u64, u64, String), (u64, String)> {
        let mut rows = 0u64;
        let fail = |rows: u64| move |e: std::io::Error| (rows, format!("writing the file: {e}"));
        tokio::fs::create_dir_all(&self.inner.dir)
            .await
            .map_err(fail(0))?;
        let part = self.part(job);
        let file = tokio::fs::File::create(&part).await.map_err(fail(0))?;
        let mut sink = Sink::new(file, job.gzip);
        let mut out = Vec::new();
        let millis = |t: Option<i64>| t.and_then(chrono::DateTime::from_timestamp_millis);
        let report = Report::new(
            &job.name,
            &job.summary,
            millis(job.range_start),
            millis(job.range_end),
            Utc::now(),
        );
        let mut encoder = Encoder::new(job.format, report, &mut out);
        loop {
            let page = self
                .inner
                .store
                .list(&q)
                .await
                .map_err(|e| (rows, format!("reading the events: {e}")))?;
            encoder.page(&page.events, &mut out);
            rows += page.events.len() as u64;
            sink.put(&out).await.map_err(fail(rows))?;
            out.clear();
            match (page.next_cursor, page.events.last()) {
                (Some(_), Some(last)) => q.cursor = Some(Cursor::after(last, q.sort)),
                _ => break,
            }
        }
        encoder.finish(&mut out);
        sink.put(&out).await.map_err(fail(rows))?;
        let (bytes, sha256) = sink.close().await.map_err(fail(rows))?;
        tokio::fs::rename(&part, self.file(job))
            .await
            .map_err(fail(rows))?;
        Ok((rows, bytes, sha256))
    }

    /// Deletes the files of Completed exports past their time and marks them Expired; returns how
    /// many.
    pub async fn sweep(&self) -> Result<usize, StoreError> {
        let now = Utc::now().timestamp_millis();
        let mut n = 0;
        for job in self.inner.store.exports_in(ExportStatus::Completed).await? {
            if job.expires_at.is_some_and(|t| t <= now) {
                let _ = tokio::fs::remove_file(self.file(&job)).await;
                self.inner
                    .store
                    .update_export(job.id, &ExportUpdate::Expired)
                    .await?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Sweeps every `every` until the process ends.
    pub fn spawn_sweeper(&self, every: Duration) {
        let jobs = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                if let Err(e) = jobs.sweep().await {
                    tracing::warn!(error = %e, "the export sweep failed");
                }
            }
        });
    }
}

/// Where a job's bytes go: the temporary file, through gzip when asked, with the size and the
/// SHA-256 of what is stored.
struct Sink {
    file: tokio::fs::File,
    gzip: Option<GzEncoder<Vec<u8>>>,
    hash: Sha256,
    bytes: u64,
}

impl Sink {
    fn new(file: tokio::fs::File, gzip: bool) -> Self {
        Self {
            file,
            gzip: gzip.then(|| GzEncoder::new(Vec::new(), Compression::default())),
            hash: Sha256::new(),
            bytes: 0,
        }
    }

    async fn put(&mut self, data: &[u8]) -> std::io::Result<()> {
        match &mut self.gzip {
            Some(gz) => {
                gz.write_all(data)?;
                let compressed = std::mem::take(gz.get_mut());
                self.store(&compressed).await
            }
            None => self.store(data).await,
        }
    }

    async fn store(&mut self, data: &[u8]) -> std::io::Result<()> {
        self.hash.update(data);
        self.bytes += data.len() as u64;
        self.file.write_all(data).await
    }

    /// Ends the gzip stream, syncs the file: the bytes stored and their SHA-256 (hex).
    async fn close(mut self) -> std::io::Result<(u64, String)> {
        if let Some(gz) = self.gzip.take() {
            let tail = gz.finish()?;
            self.store(&tail).await?;
        }
        self.file.flush().await?;
        self.file.sync_all().await?;
        let sha256 = self
            .hash
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok((self.bytes, sha256))
    }
}
