//! Errors and caught panics as one line of text, for reload records, health reports, alert
//! delivery and logs.

use std::any::Any;
use std::error::Error;

/// `error: cause: cause ...`: the error and its whole source chain, which `Display` alone
/// leaves out (an I/O error under a connection error, say).
pub(crate) fn chain(error: &(dyn Error + '_)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The message a panic was raised with: `panic!("...")` and `panic!("{x}")` payloads are a
/// `&str` or a `String`; anything else (`panic_any`) has no text to show.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
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
        let caught = |raise: fn()| panic_message(&*std::panic::catch_unwind(raise).unwrap_err());
        assert_eq!(caught(|| panic!("static")), "static");
        assert_eq!(caught(|| panic!("{}", String::from("owned"))), "owned");
        assert_eq!(
            caught(|| std::panic::panic_any(7u8)),
            "non-string panic payload"
        );
    }

    #[test]
    fn a_chain_lists_every_source() {
        #[derive(Debug)]
        struct Unreachable(std::io::Error);
        impl std::fmt::Display for Unreachable {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("endpoint unreachable")
            }
        }
        impl Error for Unreachable {
            fn source(&self) -> Option<&(dyn Error + 'static)> {
                Some(&self.0)
            }
        }
        let error = Unreachable(std::io::Error::other("connection refused"));
        assert_eq!(chain(&error), "endpoint unreachable: connection refused");
        assert_eq!(chain(&std::io::Error::other("disk full")), "disk full");
    }
}
