//! The text of a caught panic, for reload records, health reports and logs.

use std::any::Any;

/// The message a panic was raised with: `panic!("...")` and `panic!("{x}")` payloads are a
/// `&str` or a `String`; anything else (`panic_any`) has no text to show.
pub(crate) fn message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|text| (*text).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".to_owned())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test, with its message
mod tests {
    use super::*;

    #[test]
    fn messages_are_kept_whatever_their_payload() {
        let caught = |raise: fn()| message(&*std::panic::catch_unwind(raise).unwrap_err());
        assert_eq!(caught(|| panic!("static")), "static");
        assert_eq!(caught(|| panic!("{}", String::from("owned"))), "owned");
        assert_eq!(
            caught(|| std::panic::panic_any(7u8)),
            "non-string panic payload"
        );
    }
}
