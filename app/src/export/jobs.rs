//! Server exports as the history shows them: one [`ExportJob`] per "New export…", from Queued to
//! Completed (or Failed, or Expired once its file is deleted).

use serde::{Deserialize, Serialize};

/// A file format of the exports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    Csv,
    Ndjson,
    Pdf,
}

impl ExportFormat {
    pub fn parse(v: &str) -> Option<Self> {
        match v {
            "csv" => Some(Self::Csv),
            "ndjson" => Some(Self::Ndjson),
            "pdf" => Some(Self::Pdf),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Ndjson => "ndjson",
            Self::Pdf => "pdf",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Ndjson => "application/x-ndjson",
            Self::Pdf => "application/pdf",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportStatus {
    Queued,
    Running,
    Completed,
    Failed,
    /// Completed, and its file was deleted after the configured time.
    Expired,
}

impl ExportStatus {
    pub fn parse(v: &str) -> Option<Self> {
        match v {
            "queued" => Some(Self::Queued),
            "running" => Some(Self::Running),
            "completed" => Some(Self::Completed),
            "failed" => Some(Self::Failed),
            "expired" => Some(Self::Expired),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Expired => "expired",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Queued => "Queued",
            Self::Running => "Running",
            Self::Completed => "Completed",
            Self::Failed => "Failed",
            Self::Expired => "Expired",
        }
    }
}

/// One server export.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportJob {
    pub id: i64,
    pub name: String,
    pub requested_by: String,
    pub format: ExportFormat,
    /// The view, as the API's query string.
    pub view: String,
    /// The view in words.
    pub summary: String,
    /// The time range, epoch ms (`end` exclusive).
    pub range_start: Option<i64>,
    pub range_end: Option<i64>,
    pub status: ExportStatus,
    pub rows: Option<u64>,
    pub bytes: Option<u64>,
    pub sha256: Option<String>,
    pub error: Option<String>,
    pub created_at: i64,
    pub finished_at: Option<i64>,
    pub expires_at: Option<i64>,
    /// The file is gzip-compressed (`.gz`).
    #[serde(default)]
    pub gzip: bool,
}

impl ExportJob {
    /// The file's extension: the format's, and `.gz` when compressed.
    pub fn extension(&self) -> String {
        if self.gzip {
            format!("{}.gz", self.format.as_str())
        } else {
            self.format.as_str().to_string()
        }
    }

    /// The file's media type.
    pub fn content_type(&self) -> &'static str {
        if self.gzip {
            "application/gzip"
        } else {
            self.format.content_type()
        }
    }

    /// The file's name for the person who downloads it.
    pub fn file_name(&self) -> String {
        let safe: String = self
            .name
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .take(80)
            .collect();
        format!("{safe}_{}.{}", self.id, self.extension())
    }
}

/// What "New export…" asks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewExport {
    pub name: String,
    pub requested_by: String,
    pub format: ExportFormat,
    pub view: String,
    pub summary: String,
    pub range_start: Option<i64>,
    pub range_end: Option<i64>,
    /// Write the file gzip-compressed.
    pub gzip: bool,
}
