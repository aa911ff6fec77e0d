//! Errors of a run. Each says where it happened (input, position, store).

use thiserror::Error;

pub type Result<T, E = RunError> = std::result::Result<T, E>;

#[derive(Debug, Error)]
pub enum RunError {
    /// The config cannot drive a run (no source, unsupported store, …).
    #[error("{0}")]
    Config(String),
    #[error(transparent)]
    Pipeline(#[from] pipeline::ConfigError),
    /// A binlog file could not be read or decoded.
    #[error("{file}: {message}")]
    Input { file: String, message: String },
    /// The live source failed for good (what to do is in the message).
    #[error("source: {0}")]
    Source(#[from] source::SourceError),
    #[error("store: {0}")]
    Store(#[from] store::StoreError),
    /// The masking key could not be read or created.
    #[error("masking key: {0}")]
    Key(std::io::Error),
    /// The store writer stopped (its own error is reported instead when
    /// known).
    #[error("the store writer stopped unexpectedly")]
    WriterGone,
    /// Replay into a database failed.
    #[error("replay: {0}")]
    Replay(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
}

impl RunError {
    pub(crate) fn input(file: &str, message: impl std::fmt::Display) -> RunError {
        RunError::Input {
            file: file.to_string(),
            message: message.to_string(),
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> RunError {
        RunError::Io {
            context: context.into(),
            source,
        }
    }
}
