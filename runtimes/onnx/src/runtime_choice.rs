//! Which runtime runs the model: tract (pure Rust) or ONNX Runtime, or whichever is there.

use std::fmt;
use std::str::FromStr;

/// A runtime that runs ONNX models.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Runtime {
    /// tract: pure Rust, built in, one thread per call.
    Tract,
    /// ONNX Runtime, through the `ort` crate, from a `libonnxruntime` loaded at run time.
    Ort,
}

impl fmt::Display for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Runtime::Tract => "tract",
            Runtime::Ort => "ONNX Runtime",
        })
    }
}

/// The runtime asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum RuntimeChoice {
    /// ONNX Runtime when its library is found and loads, tract otherwise.
    #[default]
    Auto,
    /// ONNX Runtime; an error when its library is missing.
    Ort,
    /// tract.
    Tract,
}

impl FromStr for RuntimeChoice {
    type Err = String;

    /// `auto`, `ort` (or `onnxruntime`) or `tract`, in any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(RuntimeChoice::Auto),
            "ort" | "onnxruntime" => Ok(RuntimeChoice::Ort),
            "tract" => Ok(RuntimeChoice::Tract),
            _ => Err(format!("unknown runtime `{s}`: use auto, ort or tract")),
        }
    }
}

impl fmt::Display for RuntimeChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RuntimeChoice::Auto => "auto",
            RuntimeChoice::Ort => "ort",
            RuntimeChoice::Tract => "tract",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::RuntimeChoice;

    #[test]
    fn choices_parse_and_print_back() {
        for choice in [RuntimeChoice::Auto, RuntimeChoice::Ort, RuntimeChoice::Tract] {
            assert_eq!(choice.to_string().parse::<RuntimeChoice>(), Ok(choice));
        }
        assert_eq!("OnnxRuntime".parse::<RuntimeChoice>(), Ok(RuntimeChoice::Ort));
        assert!("torch".parse::<RuntimeChoice>().is_err());
    }
}
