//! Progress of long command-line work (demo seeding, verification, purges).

use std::io::{IsTerminal, Write};

/// A one-line progress bar on a terminal; a line per 10 % otherwise (logs, CI).
pub struct Progress {
    label: &'static str,
    total: usize,
    tty: bool,
    last_decile: usize,
    unit: &'static str,
}

impl Progress {
    pub fn new(label: &'static str, total: usize) -> Self {
        Self {
            label,
            total: total.max(1),
            tty: std::io::stderr().is_terminal(),
            last_decile: 0,
            unit: "events",
        }
    }

    pub fn set(&mut self, done: usize) {
        let pct = done * 100 / self.total;
        if self.tty {
            let filled = pct * 30 / 100;
            eprint!(
                "\r{} [{}{}] {pct:>3}%  {done}/{}",
                self.label,
                "█".repeat(filled),
                "░".repeat(30 - filled),
                self.total
            );
            let _ = std::io::stderr().flush();
        } else if pct / 10 > self.last_decile {
            self.last_decile = pct / 10;
            eprintln!("{}: {pct}% ({done}/{})", self.label, self.total);
        }
    }

    pub fn finish(&self) {
        if self.tty {
            eprintln!();
        }
        eprintln!("{}: done ({} {}).", self.label, self.total, self.unit);
    }
}
