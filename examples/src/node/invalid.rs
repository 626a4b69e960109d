//! The error every component's `validate()` returns: all the rules a settings value breaks.

use std::fmt;

/// Settings that break one or more rules, all listed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct InvalidSettings {
    /// The component, e.g. `rpcPool` (the names the seed's routing table uses).
    pub component: &'static str,
    /// One entry per broken rule, in field order.
    pub problems: Vec<Problem>,
}

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The settings field, e.g. `retry.budget_ratio`.
    pub field: &'static str,
    /// What is wrong, lowercase; never a secret (endpoints appear by host only).
    pub reason: String,
}

impl fmt::Display for InvalidSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {} settings: ", self.component)?;
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{}: {}", p.field, p.reason)?;
        }
        Ok(())
    }
}

/// Collects problems while a `validate()` walks the fields.
#[derive(Debug)]
pub(crate) struct Checker {
    component: &'static str,
    problems: Vec<Problem>,
}

impl Checker {
    pub(crate) fn new(component: &'static str) -> Self {
        Self {
            component,
            problems: Vec::new(),
        }
    }

    /// Record a problem with `field` unless `ok`.
    pub(crate) fn check(&mut self, ok: bool, field: &'static str, reason: impl FnOnce() -> String) {
        if !ok {
            self.problems.push(Problem {
                field,
                reason: reason(),
            });
        }
    }

    pub(crate) fn finish(self) -> Result<(), InvalidSettings> {
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(InvalidSettings {
                component: self.component,
                problems: self.problems,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_every_problem_in_one_line() {
        let mut c = Checker::new("detection");
        c.check(true, "a", || unreachable!());
        c.check(false, "b", || "too big".into());
        c.check(false, "c", || "too small".into());
        let error = c.finish().unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid detection settings: b: too big; c: too small"
        );
        assert_eq!(Checker::new("x").finish(), Ok(()));
    }
}
