//! The server's integration tests, one binary: each module starts the real server (or its
//! command line) against a database of its own; `common` holds the helpers they share.

mod common;

mod access;
mod crash;
mod event;
mod export;
mod export_jobs;
mod filters;
mod hostile;
mod ingest;
mod keys;
mod looked;
mod nodes;
mod offline_verify;
mod openapi;
mod poll;
mod rate_limit;
mod read;
mod search;
mod sign_in;
mod sort;
mod stats;
mod stream;
mod tail_page;
mod trust_cli;
