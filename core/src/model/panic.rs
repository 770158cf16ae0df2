//! Panics of a model, turned into messages.

/// The message of a caught panic (`catch_unwind`'s payload): the `String` or `&str` it was
/// raised with, or `"no message"`. Model adapters whose framework panics on failure use it
/// to turn the panic into [`Error::Model`](crate::Error::Model).
///
/// ```
/// use tiled_occlusion_core::model::panic_message;
/// let payload = std::panic::catch_unwind(|| panic!("shape mismatch {}", 3)).unwrap_err();
/// assert_eq!(panic_message(payload.as_ref()), "shape mismatch 3");
/// ```
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "no message".to_owned())
}
