//! The command's errors: one line that says what to fix.

/// An error of the command, printed as one line (`error: …`) with a non-zero exit code.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A command-line value that cannot be used (exit code 2).
    #[error("{0}")]
    Usage(String),
    /// Anything that went wrong while running (exit code 1).
    #[error("{0}")]
    Run(String),
}

impl CliError {
    /// The process exit code.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => 2,
            CliError::Run(_) => 1,
        }
    }
}

impl From<tiled_occlusion_core::Error> for CliError {
    /// A mistake in the settings (a window, k, stride, target, size or count the user typed, a
    /// baseline or mask file of the wrong shape) exits 2, as a bad option value does; a model,
    /// backend or device failure exits 1.
    fn from(e: tiled_occlusion_core::Error) -> Self {
        use tiled_occlusion_core::Error as E;
        match e {
            E::TooSmall { .. }
            | E::TooLarge { .. }
            | E::OutOfRange { .. }
            | E::RankMismatch { .. }
            | E::WindowLargerThanInput { .. }
            | E::StrideLargerThanWindow { .. }
            | E::WindowNotDivisible { .. }
            | E::ReferencePhaseTooShort { .. }
            | E::ReferenceBaselineNotScalar { .. }
            | E::SizeOverflow { .. }
            | E::TooLargeToAllocate { .. }
            | E::InvalidSetting { .. }
            | E::TargetOutOfRange { .. }
            | E::TargetCount { .. }
            | E::TargetRank { .. }
            | E::ContrastiveTarget { .. }
            | E::BaselineShape { .. }
            | E::FeatureMaskShape { .. }
            | E::FeatureMaskLength { .. } => CliError::Usage(e.to_string()),
            other => CliError::Run(other.to_string()),
        }
    }
}

/// `Err(CliError::Usage(…))`.
pub fn usage<T>(message: impl Into<String>) -> Result<T, CliError> {
    Err(CliError::Usage(message.into()))
}

/// `Err(CliError::Run(…))`.
pub fn run_error<T>(message: impl Into<String>) -> Result<T, CliError> {
    Err(CliError::Run(message.into()))
}
