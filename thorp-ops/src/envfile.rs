//! The `.env` dialect: text to entries with positions.
//!
//! [`parse`] turns the text of a `.env` file into an [`EnvFile`]: its entries in file order, each
//! with the 1-based line and column of its key, and the [`Warning`]s for text that is legal but
//! probably not what was meant. Every malformed line of a file is reported at once, as
//! [`ParseErrors`]. No error or warning ever contains a value, because values are often secrets;
//! keys are shown once they are known to be well formed. [`write_entries`] is the inverse: it
//! quotes what needs quoting, so that its output parses back to the same map.
//!
//! This module uses nothing else from the crate; the schema layer above it decides which keys are
//! known, typed and secret.
//!
//! ```
//! use thorp_ops::envfile::{self, ParseOptions};
//!
//! let text = "\
//! export HELIUS_RPC_URL = https://rpc.example.com/?api-key=abc  # primary
//! RPC_DEFAULT_TIMEOUT_MS=2000
//! GREETING=\"hello,\\n${USER_NAME:-world}\"
//! WINDOWS_PATH='C:\\Users\\${USER_NAME}'
//! ";
//! // Tests and reproducible loads leave the process environment out.
//! let file = envfile::parse_with(text, &ParseOptions::new().without_env())?;
//!
//! assert_eq!(file.value("HELIUS_RPC_URL"), Some("https://rpc.example.com/?api-key=abc"));
//! assert_eq!(file.get("RPC_DEFAULT_TIMEOUT_MS").map(|entry| entry.line), Some(2));
//! assert_eq!(file.value("GREETING"), Some("hello,\nworld"));
//! assert_eq!(file.value("WINDOWS_PATH"), Some("C:\\Users\\${USER_NAME}"));
//!
//! // A written-out map parses back to itself, whatever its values contain.
//! let written = envfile::write_entries(file.iter().map(|entry| (&entry.key, &entry.value)))?;
//! let reparsed = envfile::parse_with(&written, &ParseOptions::new().without_env())?;
//! assert_eq!(reparsed.value("GREETING"), Some("hello,\nworld"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # The dialect
//!
//! - **Lines.** One `KEY=VALUE` per line, optionally preceded by `export ` so that the file can
//!   also be sourced by a shell. Blank lines, and lines whose first non-blank character is `#`,
//!   are skipped. LF, CRLF and a lone CR each end a line. A UTF-8 byte order mark at the very
//!   start is skipped. Spaces and tabs around the key and around `=` are ignored.
//! - **Keys** are ASCII letters, digits and `_`, not starting with a digit
//!   (`[A-Za-z_][A-Za-z0-9_]*`): exactly the names a POSIX shell can export. Anything else,
//!   `.` and `-` included, is an error rather than a guess. See [`is_valid_key`].
//! - **Unquoted values** run to the end of the line, with surrounding blanks trimmed. A `#` that
//!   follows a blank starts a comment, so `a #b` is `a` while `a#b` keeps its `#`, and so does a
//!   value that starts right after `=` (`KEY=#b` is `#b`). `=` is an ordinary character.
//!   Backslashes are literal (`C:\Users`), except that `\$` is a literal `$`.
//! - **Single quotes** `'...'` are literal: no escapes, no expansion. They may span lines.
//! - **Double quotes** `"..."` may span lines and understand the escapes `\n`, `\t`, `\r`, `\\`,
//!   `\"` and `\$`. Any other backslash is kept as written, so `"C:\Users"` survives.
//! - After a closing quote only blanks may follow, then optionally a comment (`"a" # note`);
//!   anything else, `"a"#note` included, is an error.
//! - Line breaks inside quoted values are read as `\n`, whatever the file's line endings are.
//! - **Expansion.** `${NAME}` and `${NAME:-default}` expand in unquoted and double-quoted values.
//!   `NAME` is looked up among the keys defined earlier in the same file (the latest definition
//!   so far), then in the environment given by [`ParseOptions`] (by default the process
//!   environment). As in the shell, `:-` uses the default when the variable is unset *or empty*.
//!   The default is taken as written, with the escapes of the surrounding value; it cannot
//!   contain `}`, a nested `${`, or (unquoted) a comment. An unset variable without a default
//!   expands to the empty string, with a [`Warning::UndefinedVariable`]. A malformed reference
//!   (`${}`, `${A-b}`, a missing `}`) is an error; write `\${` for a literal `${`.
//! - **Never expanded:** a bare `$NAME` is kept literally, as is `$(command)`, which is never
//!   run. Only the braced form expands, so a `$` in a password does not silently vanish.
//! - **Duplicate keys:** the last definition wins and a [`Warning::DuplicateKey`] names both
//!   lines. The entry takes the place of its winning definition in [`EnvFile::entries`].
//! - **Errors** carry the 1-based line and column (columns count characters, a tab is one). A
//!   malformed line is never skipped silently, and parsing goes on after it, so that one pass
//!   reports every problem. Text longer than [`ParseOptions::max_size`] (1 MiB by default) and
//!   bytes that are not UTF-8 are errors too.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::str::Utf8Error;

/// The default of [`ParseOptions::max_size`]: 1 MiB.
pub const DEFAULT_MAX_SIZE: usize = 1024 * 1024;

/// How a value was written in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Quoting {
    /// `KEY=value`
    Unquoted,
    /// `KEY='value'`
    Single,
    /// `KEY="value"`
    Double,
}

/// One `KEY=VALUE` assignment: the winning one, if the key is set more than once.
///
/// `Debug` never shows the value: this layer cannot tell which values are secret, so it treats
/// them all as if they were.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Entry {
    /// The key, as written (keys are case sensitive).
    pub key: String,
    /// The value after unquoting, unescaping and `${...}` expansion.
    pub value: String,
    /// The 1-based line of the key.
    pub line: u32,
    /// The 1-based column of the key (after any `export `), in characters.
    pub column: u32,
    /// How the value was quoted.
    pub quoting: Quoting,
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry")
            .field("key", &self.key)
            .field("value", &format_args!("<redacted>"))
            .field("line", &self.line)
            .field("column", &self.column)
            .field("quoting", &self.quoting)
            .finish()
    }
}

/// A parsed `.env` file: one [`Entry`] per key, in file order, and the warnings of the parse.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct EnvFile {
    entries: Vec<Entry>,
    /// Positions in `entries`, sorted by key: lookups by binary search, without a second copy
    /// of every key (a reload parses the whole file each time).
    index: Vec<usize>,
    warnings: Vec<Warning>,
}

impl EnvFile {
    /// The entry for `key`, if the file sets it.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&Entry> {
        let entry = |position: &usize| self.entries.get(*position);
        let found = self
            .index
            .binary_search_by(|position| {
                entry(position)
                    .map_or("", |entry| entry.key.as_str())
                    .cmp(key)
            })
            .ok()?;
        self.index.get(found).and_then(entry)
    }

    /// The value of `key`, if the file sets it.
    #[must_use]
    pub fn value(&self, key: &str) -> Option<&str> {
        self.get(key).map(|entry| entry.value.as_str())
    }

    /// Whether the file sets `key`.
    #[must_use]
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Every entry, one per key, ordered by the line of its winning definition.
    #[must_use]
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Iterates over [`entries`](Self::entries).
    pub fn iter(&self) -> std::slice::Iter<'_, Entry> {
        self.entries.iter()
    }

    /// The number of distinct keys.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the file sets no key at all.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// What was legal but suspicious, in file order.
    #[must_use]
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// The entries, dropping the index and the warnings.
    #[must_use]
    pub fn into_entries(self) -> Vec<Entry> {
        self.entries
    }
}

impl fmt::Debug for EnvFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The index is derived from the entries; printing it would only add noise.
        f.debug_struct("EnvFile")
            .field("entries", &self.entries)
            .field("warnings", &self.warnings)
            .finish()
    }
}

impl<'a> IntoIterator for &'a EnvFile {
    type Item = &'a Entry;
    type IntoIter = std::slice::Iter<'a, Entry>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Something legal but probably unintended. Never contains a value.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Warning {
    /// A key is set again; the later definition wins.
    DuplicateKey {
        /// The key set twice.
        key: String,
        /// The line of the definition that lost.
        previous_line: u32,
        /// The line of the definition that won.
        line: u32,
    },
    /// `${NAME}` names a variable set neither earlier in the file nor in the environment, and
    /// has no default; it expanded to the empty string.
    UndefinedVariable {
        /// The key whose value holds the reference.
        key: String,
        /// The variable referenced.
        variable: String,
        /// The 1-based line of the `$`.
        line: u32,
        /// The 1-based column of the `$`.
        column: u32,
    },
}

impl Warning {
    /// The 1-based line the warning is about.
    #[must_use]
    pub fn line(&self) -> u32 {
        match self {
            Self::DuplicateKey { line, .. } | Self::UndefinedVariable { line, .. } => *line,
        }
    }

    /// The key the warning is about.
    #[must_use]
    pub fn key(&self) -> &str {
        match self {
            Self::DuplicateKey { key, .. } | Self::UndefinedVariable { key, .. } => key,
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DuplicateKey {
                key,
                previous_line,
                line,
            } => write!(
                f,
                "line {line}: {key}: already set on line {previous_line}; the value on line {line} wins"
            ),
            Self::UndefinedVariable {
                key,
                variable,
                line,
                column,
            } => write!(
                f,
                "line {line}, column {column}: {key}: `${{{variable}}}` is not set and has no default; \
                 it expands to an empty string"
            ),
        }
    }
}

/// One problem that makes a file unusable. Never contains a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// A line that is neither blank, a comment nor an assignment.
    #[error("line {line}, column {column}: expected `KEY=VALUE`")]
    MissingEquals {
        /// The 1-based line.
        line: u32,
        /// The 1-based column where the text starts.
        column: u32,
    },
    /// `=` with nothing before it.
    #[error("line {line}, column {column}: missing key before `=`")]
    MissingKey {
        /// The 1-based line.
        line: u32,
        /// The 1-based column of the `=`.
        column: u32,
    },
    /// A key outside `[A-Za-z_][A-Za-z0-9_]*`. The key itself is not shown: a line that fails
    /// here may be a pasted secret.
    #[error(
        "line {line}, column {column}: invalid key: use ASCII letters, digits and `_`, not starting with a digit"
    )]
    InvalidKey {
        /// The 1-based line.
        line: u32,
        /// The 1-based column of the first offending character.
        column: u32,
    },
    /// A quote that is never closed. Parsing resumes on the next line.
    #[error("line {line}, column {column}: {key}: quoted value is never closed")]
    UnterminatedQuote {
        /// The 1-based line of the opening quote.
        line: u32,
        /// The 1-based column of the opening quote.
        column: u32,
        /// The key of the value.
        key: String,
    },
    /// Text after a closing quote that is not a comment.
    #[error(
        "line {line}, column {column}: {key}: unexpected text after the closing quote (only a comment may follow, after a blank)"
    )]
    TrailingText {
        /// The 1-based line.
        line: u32,
        /// The 1-based column of the unexpected text.
        column: u32,
        /// The key of the value.
        key: String,
    },
    /// A `${` that does not continue as `NAME}` or `NAME:-default}`.
    #[error(
        "line {line}, column {column}: {key}: malformed variable reference: expected `${{NAME}}` or `${{NAME:-default}}` (write `\\$` for a literal `$`)"
    )]
    MalformedReference {
        /// The 1-based line of the `$`.
        line: u32,
        /// The 1-based column of the `$`.
        column: u32,
        /// The key of the value.
        key: String,
    },
    /// The text is longer than [`ParseOptions::max_size`].
    #[error("file is {size} bytes, over the limit of {limit} bytes")]
    TooLarge {
        /// The size of the text, in bytes.
        size: usize,
        /// The limit, in bytes.
        limit: usize,
    },
    /// The bytes are not UTF-8.
    #[error("line {line}, column {column}: invalid UTF-8 at byte offset {offset}")]
    InvalidUtf8 {
        /// The 1-based line of the first invalid byte.
        line: u32,
        /// The 1-based column of the first invalid byte.
        column: u32,
        /// The 0-based offset of the first invalid byte from the start of the file.
        offset: usize,
    },
}

impl ParseError {
    /// The 1-based line of the problem, if it has one.
    #[must_use]
    pub fn line(&self) -> Option<u32> {
        self.position().map(|(line, _)| line)
    }

    /// The 1-based column of the problem, if it has one.
    #[must_use]
    pub fn column(&self) -> Option<u32> {
        self.position().map(|(_, column)| column)
    }

    /// The key concerned, when the problem is inside a well-formed assignment.
    #[must_use]
    pub fn key(&self) -> Option<&str> {
        match self {
            Self::UnterminatedQuote { key, .. }
            | Self::TrailingText { key, .. }
            | Self::MalformedReference { key, .. } => Some(key),
            _ => None,
        }
    }

    fn position(&self) -> Option<(u32, u32)> {
        match *self {
            Self::MissingEquals { line, column }
            | Self::MissingKey { line, column }
            | Self::InvalidKey { line, column }
            | Self::UnterminatedQuote { line, column, .. }
            | Self::TrailingText { line, column, .. }
            | Self::MalformedReference { line, column, .. }
            | Self::InvalidUtf8 { line, column, .. } => Some((line, column)),
            Self::TooLarge { .. } => None,
        }
    }
}

/// Every problem of a file, in file order; never empty.
///
/// `Display` writes one problem per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseErrors(Vec<ParseError>);

impl ParseErrors {
    /// The problems, in file order.
    #[must_use]
    pub fn as_slice(&self) -> &[ParseError] {
        &self.0
    }

    /// Iterates over the problems, in file order.
    pub fn iter(&self) -> std::slice::Iter<'_, ParseError> {
        self.0.iter()
    }

    /// The problems, in file order.
    #[must_use]
    pub fn into_vec(self) -> Vec<ParseError> {
        self.0
    }
}

impl From<ParseError> for ParseErrors {
    fn from(error: ParseError) -> Self {
        Self(vec![error])
    }
}

impl fmt::Display for ParseErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ParseErrors {}

impl IntoIterator for ParseErrors {
    type Item = ParseError;
    type IntoIter = std::vec::IntoIter<ParseError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a ParseErrors {
    type Item = &'a ParseError;
    type IntoIter = std::slice::Iter<'a, ParseError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// How to parse: the size limit and where `${NAME}` looks after the file's own keys.
///
/// ```
/// use std::collections::HashMap;
/// use thorp_ops::envfile::{self, ParseOptions};
///
/// let env = HashMap::from([("HOME".to_owned(), "/home/ops".to_owned())]);
/// let lookup = |name: &str| env.get(name).cloned();
/// let options = ParseOptions::new().with_max_size(64 * 1024).with_env(&lookup);
///
/// let file = envfile::parse_with("LOG_DIR=${HOME}/logs", &options)?;
/// assert_eq!(file.value("LOG_DIR"), Some("/home/ops/logs"));
/// # Ok::<(), envfile::ParseErrors>(())
/// ```
#[derive(Clone, Copy)]
pub struct ParseOptions<'env> {
    max_size: usize,
    env: Environment<'env>,
}

/// Where `${NAME}` looks once the file's own keys are exhausted.
#[derive(Clone, Copy)]
enum Environment<'env> {
    Process,
    Empty,
    Custom(&'env (dyn Fn(&str) -> Option<String> + Sync)),
}

impl<'env> ParseOptions<'env> {
    /// A 1 MiB limit, and the process environment.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            max_size: DEFAULT_MAX_SIZE,
            env: Environment::Process,
        }
    }

    /// Rejects text longer than `bytes` with [`ParseError::TooLarge`].
    #[must_use]
    pub const fn with_max_size(mut self, bytes: usize) -> Self {
        self.max_size = bytes;
        self
    }

    /// Looks variables up with `lookup` instead of the process environment.
    #[must_use]
    pub const fn with_env(mut self, lookup: &'env (dyn Fn(&str) -> Option<String> + Sync)) -> Self {
        self.env = Environment::Custom(lookup);
        self
    }

    /// Looks variables up in the file only, for reproducible results.
    #[must_use]
    pub const fn without_env(mut self) -> Self {
        self.env = Environment::Empty;
        self
    }

    /// The size limit in bytes; a reader can stop after `max_size() + 1` bytes.
    #[must_use]
    pub const fn max_size(&self) -> usize {
        self.max_size
    }

    /// The environment's value of `name`. A process variable that is not Unicode counts as
    /// unset: it could not be a value of ours anyway.
    fn env_var(&self, name: &str) -> Option<String> {
        match self.env {
            Environment::Process => std::env::var(name).ok(),
            Environment::Empty => None,
            Environment::Custom(lookup) => lookup(name),
        }
    }
}

impl Default for ParseOptions<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for ParseOptions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let env = match self.env {
            Environment::Process => "process",
            Environment::Empty => "none",
            Environment::Custom(_) => "custom",
        };
        f.debug_struct("ParseOptions")
            .field("max_size", &self.max_size)
            .field("env", &env)
            .finish()
    }
}

/// Parses `text` with the default [`ParseOptions`]: a 1 MiB limit, and the process environment
/// for `${NAME}`.
///
/// # Errors
/// Every problem of the text, see [`ParseError`].
pub fn parse(text: &str) -> Result<EnvFile, ParseErrors> {
    parse_with(text, &ParseOptions::new())
}

/// Parses `text`.
///
/// # Errors
/// Every problem of the text, see [`ParseError`].
pub fn parse_with(text: &str, options: &ParseOptions<'_>) -> Result<EnvFile, ParseErrors> {
    check_size(text.len(), options)?;
    Parser::new(text, options).run().map(Parsed::into_env_file)
}

/// Checks the size and the encoding of `bytes`, then parses them.
///
/// # Errors
/// [`ParseError::TooLarge`] or [`ParseError::InvalidUtf8`] alone, otherwise every problem of the
/// text.
pub fn parse_bytes(bytes: &[u8], options: &ParseOptions<'_>) -> Result<EnvFile, ParseErrors> {
    parse_borrowed(bytes, options).map(Parsed::into_env_file)
}

/// Whether `key` may be a key: `[A-Za-z_][A-Za-z0-9_]*`.
#[must_use]
pub fn is_valid_key(key: &str) -> bool {
    let mut bytes = key.bytes();
    bytes
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == b'_')
        && bytes.all(is_key_byte)
}

/// A key that [`write_entries`] cannot write.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// The key is not `[A-Za-z_][A-Za-z0-9_]*`.
    #[error(
        "cannot write key `{key}`: use ASCII letters, digits and `_`, not starting with a digit"
    )]
    InvalidKey {
        /// The key.
        key: String,
    },
}

/// Writes `entries` as `.env` text, one `KEY=VALUE` line each, that [`parse`] reads back to the
/// same keys and values, with any environment.
///
/// Plain values are written bare, values without `'` or control characters in single quotes,
/// and the rest in double quotes with escapes. Duplicate keys are written as given (and so
/// parse back as last-wins).
///
/// ```
/// use std::collections::BTreeMap;
/// use thorp_ops::envfile;
///
/// let map = BTreeMap::from([
///     ("A", "plain"),
///     ("B", "two words # not a comment"),
///     ("C", "line\nbreak $HOME"),
/// ]);
/// let text = envfile::write_entries(&map)?;
/// assert_eq!(text, "A=plain\nB='two words # not a comment'\nC=\"line\\nbreak \\$HOME\"\n");
/// # Ok::<(), envfile::WriteError>(())
/// ```
///
/// # Errors
/// [`WriteError::InvalidKey`] for a key the dialect cannot hold; nothing is returned then.
pub fn write_entries<I, K, V>(entries: I) -> Result<String, WriteError>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    let mut out = String::new();
    for (key, value) in entries {
        write_entry(&mut out, key.as_ref(), value.as_ref())?;
    }
    Ok(out)
}

/// Appends one `KEY=VALUE` line to `out`, quoted as [`write_entries`] does; for writers that put
/// comments between entries.
///
/// # Errors
/// [`WriteError::InvalidKey`], leaving `out` untouched.
pub fn write_entry(out: &mut String, key: &str, value: &str) -> Result<(), WriteError> {
    if !is_valid_key(key) {
        return Err(WriteError::InvalidKey {
            key: key.to_owned(),
        });
    }
    out.reserve(key.len() + value.len() + 4);
    out.push_str(key);
    out.push('=');
    if value.chars().all(is_bare_safe) {
        out.push_str(value);
    } else if !value.chars().any(|c| c == '\'' || c.is_control()) {
        out.push('\'');
        out.push_str(value);
        out.push('\'');
    } else {
        out.push('"');
        for c in value.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                '$' => out.push_str("\\$"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c => out.push(c),
            }
        }
        out.push('"');
    }
    out.push('\n');
    Ok(())
}

/// Characters that mean nothing to the dialect anywhere in an unquoted value. Deliberately
/// narrow: anything else gets quotes, which cost little and are never wrong.
fn is_bare_safe(c: char) -> bool {
    c.is_alphanumeric()
        || matches!(
            c,
            '_' | '-' | '.' | '/' | ':' | '@' | '+' | ',' | '=' | '%' | '?' | '&'
        )
}

fn is_key_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

fn check_size(size: usize, options: &ParseOptions<'_>) -> Result<(), ParseErrors> {
    if size > options.max_size {
        return Err(ParseError::TooLarge {
            size,
            limit: options.max_size,
        }
        .into());
    }
    Ok(())
}

fn utf8_error(bytes: &[u8], error: Utf8Error) -> ParseErrors {
    let offset = error.valid_up_to();
    // The prefix is valid by definition of `valid_up_to`; the fallback only avoids a panic path.
    let valid = bytes
        .get(..offset)
        .and_then(|prefix| std::str::from_utf8(prefix).ok())
        .unwrap_or_default();
    // Walking the prefix with the parser's own cursor counts lines exactly as parsing would.
    let mut cursor = Cursor::new(valid);
    while cursor.bump().is_some() {}
    ParseError::InvalidUtf8 {
        line: cursor.at.line,
        column: cursor.at.column,
        offset,
    }
    .into()
}

fn saturating_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Position {
    line: u32,
    column: u32,
}

/// The unread rest of the text and its position. `Copy`, so that lookahead is a copy.
#[derive(Debug, Clone, Copy)]
struct Cursor<'a> {
    rest: &'a str,
    at: Position,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            rest: text.strip_prefix('\u{feff}').unwrap_or(text),
            at: Position { line: 1, column: 1 },
        }
    }

    fn peek(&self) -> Option<char> {
        self.rest.chars().next()
    }

    fn peek_second(&self) -> Option<char> {
        self.rest.chars().nth(1)
    }

    fn at_line_end(&self) -> bool {
        matches!(self.peek(), None | Some('\n' | '\r'))
    }

    /// Consumes one character; CRLF and a lone CR are consumed as one `\n`, so that every line
    /// ending counts one line and reads the same inside quoted values.
    fn bump(&mut self) -> Option<char> {
        let mut chars = self.rest.chars();
        let c = chars.next()?;
        let c = match c {
            '\r' => {
                if chars.as_str().starts_with('\n') {
                    chars.next();
                }
                '\n'
            }
            c => c,
        };
        self.rest = chars.as_str();
        if c == '\n' {
            self.at.line = self.at.line.saturating_add(1);
            self.at.column = 1;
        } else {
            self.at.column = self.at.column.saturating_add(1);
        }
        Some(c)
    }

    fn eat(&mut self, c: char) -> bool {
        let eaten = self.peek() == Some(c);
        if eaten {
            self.bump();
        }
        eaten
    }

    /// Consumes the longest prefix of bytes matching `pred`, which must accept ASCII only, so
    /// that the prefix ends on a character boundary and counts one column per byte.
    fn take_ascii_while(&mut self, pred: impl Fn(u8) -> bool) -> &'a str {
        let len = self
            .rest
            .bytes()
            .position(|b| !(b.is_ascii() && pred(b)))
            .unwrap_or(self.rest.len());
        let Some((taken, rest)) = self.rest.split_at_checked(len) else {
            return "";
        };
        self.rest = rest;
        self.at.column = self.at.column.saturating_add(saturating_u32(len));
        taken
    }

    /// Consumes bytes up to (not including) the first that `stop` accepts, or to the end of the
    /// text. `stop` must accept only ASCII (so the run ends on a character boundary), both
    /// line-ending bytes among them (so the run stays on one line). Bytes, not `char`s: a
    /// UTF-8 sequence never contains an ASCII byte, and this loop is most of a parse.
    fn take_until(&mut self, stop: impl Fn(u8) -> bool) -> &'a str {
        let len = self.rest.bytes().position(stop).unwrap_or(self.rest.len());
        let Some((taken, rest)) = self.rest.split_at_checked(len) else {
            return "";
        };
        self.rest = rest;
        self.at.column = self.at.column.saturating_add(columns(taken));
        taken
    }

    /// Consumes a run of key characters (which may still start with a digit).
    fn take_word(&mut self) -> &'a str {
        self.take_ascii_while(is_key_byte)
    }

    /// Consumes spaces and tabs; tells whether there were any.
    fn skip_blanks(&mut self) -> bool {
        !self
            .take_ascii_while(|b| b == b' ' || b == b'\t')
            .is_empty()
    }

    /// The rest of the current line, without its line ending.
    fn rest_of_line(&self) -> &'a str {
        let end = self
            .rest
            .bytes()
            .position(|b| b == b'\n' || b == b'\r')
            .unwrap_or(self.rest.len());
        self.rest.get(..end).unwrap_or_default()
    }

    /// Consumes the rest of the current line, leaving its line ending.
    fn skip_to_line_end(&mut self) {
        let skipped = self.rest_of_line();
        self.rest = self.rest.get(skipped.len()..).unwrap_or_default();
        self.at.column = self.at.column.saturating_add(columns(skipped));
    }
}

/// How many columns `text` takes: its characters.
fn columns(text: &str) -> u32 {
    let count = if text.is_ascii() {
        text.len()
    } else {
        text.chars().count()
    };
    saturating_u32(count)
}

/// Where a value is being read: decides which escapes exist and what ends a `${NAME:-default}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Context {
    Unquoted,
    DoubleQuoted,
}

impl Context {
    /// What `\c` stands for, or `None` to keep the backslash. Unquoted values know only `\$`,
    /// so that backslashes in Windows paths need no doubling.
    fn unescape(self, c: char) -> Option<char> {
        match (self, c) {
            (_, '$') => Some('$'),
            (Self::DoubleQuoted, 'n') => Some('\n'),
            (Self::DoubleQuoted, 't') => Some('\t'),
            (Self::DoubleQuoted, 'r') => Some('\r'),
            (Self::DoubleQuoted, '\\') => Some('\\'),
            (Self::DoubleQuoted, '"') => Some('"'),
            _ => None,
        }
    }
}

/// A value as it is read: a span of the text for as long as it is one, which most values are
/// (no escape, expansion or line ending in them), so that reading it copies nothing; its own
/// text once it differs from the file's.
struct Value {
    span: Range<usize>,
    owned: Option<String>,
}

impl Value {
    fn new() -> Self {
        Self {
            span: 0..0,
            owned: None,
        }
    }

    /// Appends `text[span]`, which follows the value's span in the text in the common case.
    fn push_span(&mut self, text: &str, span: Range<usize>) {
        if self.owned.is_none() {
            if self.span.is_empty() {
                self.span = span;
                return;
            }
            if self.span.end == span.start {
                self.span.end = span.end;
                return;
            }
        }
        self.own(text).push_str(text.get(span).unwrap_or_default());
    }

    /// Appends text that is not where the value stands in the file.
    fn push_str(&mut self, text: &str, piece: &str) {
        if !piece.is_empty() {
            self.own(text).push_str(piece);
        }
    }

    fn push(&mut self, text: &str, c: char) {
        self.own(text).push(c);
    }

    fn own(&mut self, text: &str) -> &mut String {
        let span = &self.span;
        self.owned
            .get_or_insert_with(|| text.get(span.clone()).unwrap_or_default().to_owned())
    }

    fn len(&self) -> usize {
        self.owned.as_ref().map_or(self.span.len(), String::len)
    }

    /// Keeps the first `len` bytes, `len` being a length the value had before (a boundary).
    fn truncate(&mut self, len: usize) {
        match &mut self.owned {
            Some(owned) => owned.truncate(len),
            None => self.span.end = self.span.start + len.min(self.span.len()),
        }
    }

    fn finish<'a>(self, text: &'a str) -> Cow<'a, str> {
        match self.owned {
            Some(owned) => Cow::Owned(owned),
            None => Cow::Borrowed(text.get(self.span).unwrap_or_default()),
        }
    }
}

/// An entry as the parser keeps it: key and value borrowed from the text where they can be.
#[derive(Debug, Clone)]
pub(crate) struct ParsedEntry<'a> {
    pub(crate) key: &'a str,
    pub(crate) value: Cow<'a, str>,
    pub(crate) line: u32,
    column: u32,
    quoting: Quoting,
}

impl ParsedEntry<'_> {
    fn into_entry(self) -> Entry {
        Entry {
            key: self.key.to_owned(),
            value: self.value.into_owned(),
            line: self.line,
            column: self.column,
            quoting: self.quoting,
        }
    }
}

/// A parse before its entries are copied out of the text: what the config loader reads, since
/// it copies only the values it keeps. [`EnvFile`] is the same, owned.
#[derive(Debug)]
pub(crate) struct Parsed<'a> {
    entries: Vec<ParsedEntry<'a>>,
    /// Positions in `entries`, sorted by key.
    index: Vec<usize>,
    warnings: Vec<Warning>,
}

impl<'a> Parsed<'a> {
    /// The entries, one per key, in the order of their winning definitions.
    pub(crate) fn entries(&self) -> &[ParsedEntry<'a>] {
        &self.entries
    }

    /// The position in [`entries`](Self::entries) of `key`'s entry. `hint` is where to look
    /// first: a loader reading keys in the order the file lists them finds each at the
    /// position after the previous one, without a search.
    pub(crate) fn position(&self, key: &str, hint: usize) -> Option<usize> {
        if self.entries.get(hint).is_some_and(|entry| entry.key == key) {
            return Some(hint);
        }
        let key_at = |position: &usize| self.entries.get(*position).map_or("", |entry| entry.key);
        let found = self
            .index
            .binary_search_by(|position| key_at(position).cmp(key))
            .ok()?;
        self.index.get(found).copied()
    }

    /// Positions in [`entries`](Self::entries), in the order of their keys.
    pub(crate) fn positions_by_key(&self) -> impl Iterator<Item = usize> + '_ {
        self.index.iter().copied()
    }

    pub(crate) fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    fn into_env_file(self) -> EnvFile {
        EnvFile {
            entries: self
                .entries
                .into_iter()
                .map(ParsedEntry::into_entry)
                .collect(),
            index: self.index,
            warnings: self.warnings,
        }
    }
}

/// Parses `bytes` as [`parse_bytes`] does, keeping keys and values in the text where it can.
pub(crate) fn parse_borrowed<'a>(
    bytes: &'a [u8],
    options: &ParseOptions<'_>,
) -> Result<Parsed<'a>, ParseErrors> {
    check_size(bytes.len(), options)?;
    let text = std::str::from_utf8(bytes).map_err(|error| utf8_error(bytes, error))?;
    Parser::new(text, options).run()
}

/// A single pass over the text. Each character is read once, except that a line with an error
/// is also searched for `=` and an unterminated quote is re-read as ordinary lines; a quote can
/// only run unterminated to the end of the text once per kind of quote, so that stays linear.
struct Parser<'a, 'o> {
    /// The whole text (after any byte order mark); values are spans of it.
    text: &'a str,
    cursor: Cursor<'a>,
    options: &'o ParseOptions<'o>,
    /// Every definition in file order; which ones lose to a later one is settled at the end.
    slots: Vec<ParsedEntry<'a>>,
    /// The slot of each key's latest definition among the first `indexed` slots. Only a
    /// `${NAME}` needs it, so it is brought up to date when one is read: most files have no
    /// reference, and hashing every key cost more than the rest of the parse.
    latest: HashMap<&'a str, usize>,
    indexed: usize,
    /// Warnings in file order, each with the number of definitions before it.
    warnings: Vec<(usize, Warning)>,
    errors: Vec<ParseError>,
}

impl<'a, 'o> Parser<'a, 'o> {
    fn new(text: &'a str, options: &'o ParseOptions<'o>) -> Self {
        let cursor = Cursor::new(text);
        Self {
            text: cursor.rest,
            cursor,
            options,
            slots: Vec::new(),
            latest: HashMap::new(),
            indexed: 0,
            warnings: Vec::new(),
            errors: Vec::new(),
        }
    }

    fn run(mut self) -> Result<Parsed<'a>, ParseErrors> {
        while self.cursor.peek().is_some() {
            self.line();
        }
        if !self.errors.is_empty() {
            return Err(ParseErrors(self.errors));
        }
        // By key, then file order: each run of one key ends with its winning definition.
        let mut by_key: Vec<(&'a str, usize)> = self
            .slots
            .iter()
            .enumerate()
            .map(|(slot, entry)| (entry.key, slot))
            .collect();
        by_key.sort_unstable();
        let duplicated = by_key.windows(2).any(|pair| pair[0].0 == pair[1].0);
        if !duplicated {
            return Ok(Parsed {
                entries: self.slots,
                index: by_key.into_iter().map(|(_, slot)| slot).collect(),
                warnings: self.warnings.into_iter().map(|(_, w)| w).collect(),
            });
        }
        Ok(self.settle_duplicates(&by_key))
    }

    /// Drops the definitions a later one of the same key replaced, warning of each as it was
    /// replaced (in file order, among the other warnings), and keeps the winners in file order.
    fn settle_duplicates(self, by_key: &[(&'a str, usize)]) -> Parsed<'a> {
        let line_of = |slot: usize| self.slots.get(slot).map_or(0, |entry| entry.line);
        let mut lost = vec![false; self.slots.len()];
        let mut replaced = Vec::new();
        for pair in by_key.windows(2) {
            let [(key, earlier), (next_key, later)] = [pair[0], pair[1]];
            if key == next_key {
                if let Some(flag) = lost.get_mut(earlier) {
                    *flag = true;
                }
                let warning = Warning::DuplicateKey {
                    key: key.to_owned(),
                    previous_line: line_of(earlier),
                    line: line_of(later),
                };
                // Raised when the later definition was read: after the warnings of its value.
                replaced.push((later + 1, warning));
            }
        }
        replaced.sort_by_key(|(defined, _)| *defined);
        let mut warnings = Vec::with_capacity(self.warnings.len() + replaced.len());
        let mut replaced = replaced.into_iter().peekable();
        for (defined, warning) in self.warnings {
            while let Some(next) = replaced.next_if(|(before, _)| *before <= defined) {
                warnings.push(next.1);
            }
            warnings.push(warning);
        }
        warnings.extend(replaced.map(|(_, warning)| warning));
        // Where each kept slot ends up once the lost ones are gone.
        let mut kept_at = Vec::with_capacity(self.slots.len());
        let mut kept = 0;
        for &gone in &lost {
            kept_at.push(kept);
            kept += usize::from(!gone);
        }
        let index = by_key
            .iter()
            .filter(|(_, slot)| !lost.get(*slot).copied().unwrap_or(true))
            .filter_map(|(_, slot)| kept_at.get(*slot).copied())
            .collect();
        let entries = self
            .slots
            .into_iter()
            .zip(&lost)
            .filter(|(_, gone)| !**gone)
            .map(|(entry, _)| entry)
            .collect();
        Parsed {
            entries,
            index,
            warnings,
        }
    }

    /// Where the cursor is, as a byte offset in the text.
    fn offset(&self) -> usize {
        self.text.len() - self.cursor.rest.len()
    }

    /// Appends what the cursor just consumed from `start`, the character `c` it was read as:
    /// as a span when the text holds `c` itself, else (a CR or CRLF read as `\n`) as `c`.
    fn push_read(&self, value: &mut Value, start: usize, c: char) {
        let span = start..self.offset();
        let read = self.text.get(span.clone()).unwrap_or_default();
        if read.len() == c.len_utf8() && read.starts_with(c) {
            value.push_span(self.text, span);
        } else {
            value.push(self.text, c);
        }
    }

    fn warn(&mut self, warning: Warning) {
        self.warnings.push((self.slots.len(), warning));
    }

    /// Reads one line (more, if a quoted value spans lines), up to and including its ending.
    fn line(&mut self) {
        self.cursor.skip_blanks();
        if self.cursor.peek() != Some('#')
            && !self.cursor.at_line_end()
            && let Err(error) = self.entry()
        {
            self.errors.push(error);
        }
        // Comments, and whatever follows an error: the rest of the line says nothing more.
        self.cursor.skip_to_line_end();
        self.cursor.bump();
    }

    fn entry(&mut self) -> Result<(), ParseError> {
        self.skip_export();
        let start = self.cursor.at;
        let key = self.key(start)?;
        let blank_after_equals = self.cursor.skip_blanks();
        let (value, quoting) = match self.cursor.peek() {
            Some('\'') => (self.quoted(key, Self::single_quoted_body)?, Quoting::Single),
            Some('"') => (
                self.quoted(key, |parser| parser.double_quoted_body(key))?,
                Quoting::Double,
            ),
            // `KEY= # note`: an empty value and a comment, which `line` skips.
            Some('#') if blank_after_equals => (Value::new(), Quoting::Unquoted),
            _ => (self.unquoted(key), Quoting::Unquoted),
        };
        self.slots.push(ParsedEntry {
            key,
            value: value.finish(self.text),
            line: start.line,
            column: start.column,
            quoting,
        });
        Ok(())
    }

    /// Skips `export` and its blanks, unless `export` is itself the key (`export=1`).
    fn skip_export(&mut self) {
        let mut probe = self.cursor;
        if probe.take_word() == "export" && probe.skip_blanks() && probe.peek() != Some('=') {
            self.cursor = probe;
        }
    }

    /// Reads the key and the `=` after it.
    fn key(&mut self, start: Position) -> Result<&'a str, ParseError> {
        let key = self.cursor.take_word();
        let after_key = self.cursor.at;
        self.cursor.skip_blanks();
        if self.cursor.eat('=') {
            return if key.is_empty() {
                Err(ParseError::MissingKey {
                    line: start.line,
                    column: start.column,
                })
            } else if is_valid_key(key) {
                Ok(key)
            } else {
                // Only a leading digit makes a run of key characters invalid.
                Err(ParseError::InvalidKey {
                    line: start.line,
                    column: start.column,
                })
            };
        }
        // The key ends early: on a bad character if an `=` follows later, else the line is no
        // assignment at all (perhaps a stray value, so nothing of it is shown).
        if self.cursor.rest_of_line().contains('=') {
            Err(ParseError::InvalidKey {
                line: after_key.line,
                column: after_key.column,
            })
        } else {
            Err(ParseError::MissingEquals {
                line: start.line,
                column: start.column,
            })
        }
    }

    /// Reads a quoted value with `body`, which starts after the opening quote and returns
    /// `None` if there is no closing one, then checks what follows on the closing line.
    fn quoted(
        &mut self,
        key: &str,
        body: impl FnOnce(&mut Self) -> Option<Value>,
    ) -> Result<Value, ParseError> {
        let open = self.cursor;
        let (errors, warnings) = (self.errors.len(), self.warnings.len());
        self.cursor.bump();
        let Some(value) = body(self) else {
            // The quote swallowed the rest of the text. Most often a closing quote was
            // forgotten on a one-line value, so resume on the next line and forget what was
            // found in text that was never a value.
            self.errors.truncate(errors);
            self.warnings.truncate(warnings);
            self.cursor = open;
            return Err(ParseError::UnterminatedQuote {
                line: open.at.line,
                column: open.at.column,
                key: key.to_owned(),
            });
        };
        let blank = self.cursor.skip_blanks();
        if self.cursor.at_line_end() || (blank && self.cursor.peek() == Some('#')) {
            Ok(value)
        } else {
            Err(ParseError::TrailingText {
                line: self.cursor.at.line,
                column: self.cursor.at.column,
                key: key.to_owned(),
            })
        }
    }

    /// After the opening `'`: everything up to the closing one. `None` if there is none.
    fn single_quoted_body(&mut self) -> Option<Value> {
        let mut value = Value::new();
        loop {
            // Runs of plain text at once; line endings one by one, which counts lines.
            let run = self.run_until(|b| matches!(b, b'\'' | b'\n' | b'\r'));
            value.push_span(self.text, run);
            let start = self.offset();
            match self.cursor.bump()? {
                '\'' => return Some(value),
                c => self.push_read(&mut value, start, c),
            }
        }
    }

    /// After the opening `"`: escapes and references up to the closing one. `None` if there is
    /// none.
    fn double_quoted_body(&mut self, key: &str) -> Option<Value> {
        let mut value = Value::new();
        loop {
            let run = self.run_until(|b| matches!(b, b'"' | b'\\' | b'$' | b'\n' | b'\r'));
            value.push_span(self.text, run);
            let (at, start) = (self.cursor.at, self.offset());
            match self.cursor.bump()? {
                '"' => return Some(value),
                '\\' => self.escape(&mut value, start, Context::DoubleQuoted),
                '$' if self.cursor.peek() == Some('{') => {
                    self.reference(&mut value, key, at, Context::DoubleQuoted);
                }
                c => self.push_read(&mut value, start, c),
            }
        }
    }

    /// Consumes a run of bytes up to the first that `stop` accepts (ASCII only, so the run ends
    /// on a character boundary) and returns its span.
    fn run_until(&mut self, stop: impl Fn(u8) -> bool) -> Range<usize> {
        let start = self.offset();
        self.cursor.take_until(stop);
        start..self.offset()
    }

    /// Up to the end of the line or a comment, trimmed.
    fn unquoted(&mut self, key: &str) -> Value {
        let mut value = Value::new();
        // Trailing blanks of the text are trimmed, but not blanks that came from an expansion.
        let mut trimmed_len = 0;
        loop {
            let (at, start) = (self.cursor.at, self.offset());
            match self.cursor.peek() {
                None | Some('\n' | '\r') => break,
                Some(' ' | '\t') => {
                    self.cursor.bump();
                    if self.cursor.peek() == Some('#') {
                        break;
                    }
                    value.push_span(self.text, start..self.offset());
                    continue;
                }
                Some('\\') => {
                    self.cursor.bump();
                    self.escape(&mut value, start, Context::Unquoted);
                }
                Some('$') if self.cursor.peek_second() == Some('{') => {
                    self.cursor.bump();
                    self.reference(&mut value, key, at, Context::Unquoted);
                }
                Some(_) => {
                    let run = self
                        .run_until(|b| matches!(b, b'\n' | b'\r' | b' ' | b'\t' | b'\\' | b'$'));
                    if run.is_empty() {
                        // A `$` that starts no reference.
                        self.cursor.bump();
                        value.push_span(self.text, start..self.offset());
                    } else {
                        value.push_span(self.text, run);
                    }
                }
            }
            trimmed_len = value.len();
        }
        value.truncate(trimmed_len);
        value
    }

    /// After a `\` read at `backslash`: pushes what the escape stands for, or the backslash
    /// itself if it is not an escape here, leaving the next character to be read as usual.
    fn escape(&mut self, out: &mut Value, backslash: usize, context: Context) {
        match self.cursor.peek().and_then(|c| context.unescape(c)) {
            Some(c) => {
                self.cursor.bump();
                out.push(self.text, c);
            }
            None => out.push_span(self.text, backslash..backslash + 1),
        }
    }

    /// After the `$` of `${`, which is at `at`: expands the reference into `out`, or reports it
    /// as malformed.
    fn reference(&mut self, out: &mut Value, key: &str, at: Position, context: Context) {
        self.cursor.bump();
        match self.reference_body(context) {
            Some((variable, default)) => self.expand(out, key, at, variable, default.as_deref()),
            None => self.errors.push(ParseError::MalformedReference {
                line: at.line,
                column: at.column,
                key: key.to_owned(),
            }),
        }
    }
    /// After `${`: reads `NAME}` or `NAME:-default}`. On a malformed reference it stops before
    /// the offending character, and the value goes on from there: never re-reading text keeps
    /// the parser linear, and a `"` or comment that ends the value is still seen.
    fn reference_body(&mut self, context: Context) -> Option<(&'a str, Option<String>)> {
        let variable = self.cursor.take_word();
        if !is_valid_key(variable) {
            return None;
        }
        if self.cursor.eat('}') {
            return Some((variable, None));
        }
        if !(self.cursor.peek() == Some(':') && self.cursor.peek_second() == Some('-')) {
            return None;
        }
        self.cursor.bump();
        self.cursor.bump();
        let mut default = String::new();
        loop {
            match self.cursor.peek()? {
                '}' => {
                    self.cursor.bump();
                    return Some((variable, Some(default)));
                }
                '\\' => {
                    self.cursor.bump();
                    match self.cursor.peek().and_then(|c| context.unescape(c)) {
                        Some(c) => {
                            self.cursor.bump();
                            default.push(c);
                        }
                        None => default.push('\\'),
                    }
                }
                // Nesting would need recursion bounded against hostile input; rejecting it is
                // simpler and says so.
                '$' if self.cursor.peek_second() == Some('{') => return None,
                '"' if context == Context::DoubleQuoted => return None,
                '\n' | '\r' if context == Context::Unquoted => return None,
                ' ' | '\t'
                    if context == Context::Unquoted && self.cursor.peek_second() == Some('#') =>
                {
                    return None;
                }
                c => {
                    self.cursor.bump();
                    default.push(c);
                }
            }
        }
    }

    fn expand(
        &mut self,
        out: &mut Value,
        key: &str,
        at: Position,
        variable: &str,
        default: Option<&str>,
    ) {
        let text = self.text;
        let undefined = match (self.lookup(variable), default) {
            (Some(found), Some(default)) if found.is_empty() => {
                out.push_str(text, default);
                false
            }
            (Some(found), _) => {
                out.push_str(text, &found);
                false
            }
            (None, Some(default)) => {
                out.push_str(text, default);
                false
            }
            (None, None) => true,
        };
        if undefined {
            self.warn(Warning::UndefinedVariable {
                key: key.to_owned(),
                variable: variable.to_owned(),
                line: at.line,
                column: at.column,
            });
        }
    }

    /// The latest value of `variable` defined so far in the file, else the environment's.
    fn lookup(&mut self, variable: &str) -> Option<Cow<'_, str>> {
        for (slot, entry) in self.slots.iter().enumerate().skip(self.indexed) {
            self.latest.insert(entry.key, slot);
        }
        self.indexed = self.slots.len();
        let in_file = self
            .latest
            .get(variable)
            .and_then(|&slot| self.slots.get(slot));
        match in_file {
            Some(entry) => Some(Cow::Borrowed(&entry.value)),
            None => self.options.env_var(variable).map(Cow::Owned),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn no_env() -> ParseOptions<'static> {
        ParseOptions::new().without_env()
    }

    fn parse_ok(text: &str) -> EnvFile {
        match parse_with(text, &no_env()) {
            Ok(file) => file,
            Err(errors) => panic!("unexpected errors for {text:?}:\n{errors}"),
        }
    }

    fn parse_err(text: &str) -> Vec<ParseError> {
        match parse_with(text, &no_env()) {
            Ok(file) => panic!("expected errors for {text:?}, got {:?}", file.entries()),
            Err(errors) => errors.into_vec(),
        }
    }

    fn lines_of(file: &EnvFile) -> Vec<(&str, u32)> {
        file.iter()
            .map(|entry| (entry.key.as_str(), entry.line))
            .collect()
    }

    // --- lines, keys and unquoted values ---

    #[test]
    fn key_value_pair_is_parsed() {
        let file = parse_ok("KEY=value");
        assert_eq!(file.len(), 1);
        let entry = &file.entries()[0];
        assert_eq!((entry.key.as_str(), entry.value.as_str()), ("KEY", "value"));
        assert_eq!((entry.line, entry.column), (1, 1));
        assert_eq!(entry.quoting, Quoting::Unquoted);
    }

    #[test]
    fn export_prefix_is_ignored() {
        let file = parse_ok("export A=1\nexport\tB=2\n  export   C = 3");
        assert_eq!(file.value("A"), Some("1"));
        assert_eq!(file.value("B"), Some("2"));
        assert_eq!(file.value("C"), Some("3"));
        assert_eq!(file.get("A").map(|e| e.column), Some(8));
    }

    #[test]
    fn export_alone_is_an_ordinary_key() {
        let file = parse_ok("export=1\nexport = 2\nexporter=3");
        assert_eq!(file.value("export"), Some("2"));
        assert_eq!(file.value("exporter"), Some("3"));
    }

    #[test]
    fn whitespace_around_equals_is_trimmed() {
        let file = parse_ok("A = 1\nB\t=\t2\n  C=3");
        assert_eq!(file.value("A"), Some("1"));
        assert_eq!(file.value("B"), Some("2"));
        assert_eq!(file.value("C"), Some("3"));
        assert_eq!(file.get("C").map(|e| e.column), Some(3));
    }

    #[test]
    fn whitespace_around_unquoted_value_is_trimmed() {
        let file = parse_ok("A=   two words \t \nB=\t");
        assert_eq!(file.value("A"), Some("two words"));
        assert_eq!(file.value("B"), Some(""));
    }

    #[test]
    fn empty_value_is_allowed() {
        let file = parse_ok("A=\nB=''\nC=\"\"");
        assert_eq!(file.value("A"), Some(""));
        assert_eq!(file.value("B"), Some(""));
        assert_eq!(file.value("C"), Some(""));
    }

    #[test]
    fn blank_lines_are_skipped() {
        let file = parse_ok("\n\n   \n\t\nA=1\n\n");
        assert_eq!(lines_of(&file), [("A", 5)]);
    }

    #[test]
    fn comment_lines_are_skipped() {
        let file = parse_ok("# top\n   # indented\n#A=1\nB=2");
        assert_eq!(lines_of(&file), [("B", 4)]);
    }

    #[test]
    fn inline_comment_needs_leading_whitespace() {
        let file = parse_ok("A=a#b\nB=a #b\nC=a\t# b\nD=url#frag # note");
        assert_eq!(file.value("A"), Some("a#b"));
        assert_eq!(file.value("B"), Some("a"));
        assert_eq!(file.value("C"), Some("a"));
        assert_eq!(file.value("D"), Some("url#frag"));
    }

    #[test]
    fn hash_right_after_equals_is_part_of_the_value() {
        let file = parse_ok("A=#b\nB= #b\nC=");
        assert_eq!(file.value("A"), Some("#b"));
        assert_eq!(file.value("B"), Some(""));
    }

    #[test]
    fn equals_inside_value_is_kept() {
        let file = parse_ok("A=b=c==\nB=\"x=y\"\nC==");
        assert_eq!(file.value("A"), Some("b=c=="));
        assert_eq!(file.value("B"), Some("x=y"));
        assert_eq!(file.value("C"), Some("="));
    }

    #[test]
    fn utf8_bom_is_skipped() {
        let file = parse_ok("\u{feff}A=1\nB=2");
        assert_eq!(file.get("A").map(|e| (e.line, e.column)), Some((1, 1)));
        let bytes = b"\xef\xbb\xbfA=1";
        let file = parse_bytes(bytes, &no_env()).map_err(|e| e.to_string());
        assert_eq!(
            file.map(|f| f.value("A").map(str::to_owned)),
            Ok(Some("1".into()))
        );
    }

    #[test]
    fn lf_line_endings_count_lines() {
        assert_eq!(
            lines_of(&parse_ok("A=1\n\nB=2\n# c\nC=3\n")),
            [("A", 1), ("B", 3), ("C", 5)]
        );
    }

    #[test]
    fn crlf_line_endings_count_lines() {
        let file = parse_ok("A=1\r\n\r\nB=2\r\n# c\r\nC=3\r\n");
        assert_eq!(lines_of(&file), [("A", 1), ("B", 3), ("C", 5)]);
        assert_eq!(file.value("A"), Some("1"));
    }

    #[test]
    fn cr_line_endings_count_lines() {
        let file = parse_ok("A=1\r\rB=2\r# c\rC=3\r");
        assert_eq!(lines_of(&file), [("A", 1), ("B", 3), ("C", 5)]);
        assert_eq!(file.value("B"), Some("2"));
    }

    #[test]
    fn mixed_line_endings_count_lines() {
        // `\n\r` is two endings (LF, then a lone CR); only `\r\n` is one.
        let file = parse_ok("A=1\n\rB=2\r\nC=3\rD=4");
        assert_eq!(lines_of(&file), [("A", 1), ("B", 3), ("C", 4), ("D", 5)]);
    }

    #[test]
    fn key_charset_is_ascii_letters_digits_and_underscore() {
        let file = parse_ok("_A=1\nlower_Case9=2\n__=3");
        assert_eq!(file.len(), 3);
        assert!(is_valid_key("A_1"));
        for bad in ["", "1A", "A.B", "A-B", "Ä", "A B"] {
            assert!(!is_valid_key(bad), "{bad:?}");
        }
    }

    #[test]
    fn key_must_not_start_with_a_digit() {
        assert_eq!(
            parse_err("OK=1\n9LIVES=1"),
            [ParseError::InvalidKey { line: 2, column: 1 }]
        );
    }

    #[test]
    fn key_with_other_characters_is_an_error() {
        assert_eq!(
            parse_err("A.B=1\n  my-key=2\nSPACE KEY=3\nÄ=4"),
            [
                ParseError::InvalidKey { line: 1, column: 2 },
                ParseError::InvalidKey { line: 2, column: 5 },
                ParseError::InvalidKey { line: 3, column: 6 },
                ParseError::InvalidKey { line: 4, column: 1 },
            ]
        );
    }

    #[test]
    fn missing_key_is_an_error() {
        assert_eq!(
            parse_err("=value\n  = value"),
            [
                ParseError::MissingKey { line: 1, column: 1 },
                ParseError::MissingKey { line: 2, column: 3 },
            ]
        );
    }

    #[test]
    fn missing_equals_is_an_error_with_position() {
        assert_eq!(
            parse_err("A=1\n  JUST_A_WORD\nexport B\nsome stray text"),
            [
                ParseError::MissingEquals { line: 2, column: 3 },
                ParseError::MissingEquals { line: 3, column: 8 },
                ParseError::MissingEquals { line: 4, column: 1 },
            ]
        );
    }

    #[test]
    fn backslashes_in_unquoted_values_are_literal() {
        let file = parse_ok(r"A=C:\Users\n\t\\ B=x\");
        assert_eq!(file.value("A"), Some(r"C:\Users\n\t\\ B=x\"));
    }

    #[test]
    fn quotes_inside_unquoted_value_are_literal() {
        let file = parse_ok(r#"A=it's "fine""#);
        assert_eq!(file.value("A"), Some(r#"it's "fine""#));
    }

    // --- quotes ---

    #[test]
    fn single_quotes_are_literal() {
        // `\'` is no escape: the value ends at its quote, and ` # ...` is a comment.
        let file = parse_ok(r"A='  \n \\ \' # ${B} \'");
        assert_eq!(file.value("A"), Some(r"  \n \\ \"));
        let file = parse_ok(r"A='  \n \\ # ${B} $(id) ' # note");
        assert_eq!(file.value("A"), Some(r"  \n \\ # ${B} $(id) "));
        assert_eq!(file.get("A").map(|e| e.quoting), Some(Quoting::Single));
        assert!(file.warnings().is_empty());
    }

    #[test]
    fn single_quotes_may_span_lines() {
        let file = parse_ok("A='one\ntwo\n'\nB=2");
        assert_eq!(file.value("A"), Some("one\ntwo\n"));
        assert_eq!(lines_of(&file), [("A", 1), ("B", 4)]);
    }

    #[test]
    fn double_quotes_may_span_lines() {
        let file = parse_ok("A=\"one\n  two\"\nB=2");
        assert_eq!(file.value("A"), Some("one\n  two"));
        assert_eq!(lines_of(&file), [("A", 1), ("B", 3)]);
        assert_eq!(file.get("A").map(|e| e.quoting), Some(Quoting::Double));
    }

    #[test]
    fn double_quote_escapes_are_decoded() {
        let file = parse_ok(r#"A="a\nb\tc\rd\\e\"f\$g""#);
        assert_eq!(file.value("A"), Some("a\nb\tc\rd\\e\"f$g"));
    }

    #[test]
    fn unknown_escape_keeps_backslash() {
        let file = parse_ok(
            r#"A="C:\Users\bob"
B="C:\Users\bob\\"
C="\U\a\0\ \'"
D="C:\new""#,
        );
        assert_eq!(file.value("A"), Some(r"C:\Users\bob"));
        assert_eq!(file.value("B"), Some(r"C:\Users\bob\"));
        assert_eq!(file.value("C"), Some(r"\U\a\0\ \'"));
        // The price of decoding `\n`: a directory that starts with `n` needs `\\`.
        assert_eq!(file.value("D"), Some("C:\new"));
    }

    #[test]
    fn line_endings_inside_quotes_become_lf() {
        let file = parse_ok("A=\"1\r\n2\r3\n4\"\r\nB='x\r\ny'\r\nC=3");
        assert_eq!(file.value("A"), Some("1\n2\n3\n4"));
        assert_eq!(file.value("B"), Some("x\ny"));
        assert_eq!(lines_of(&file), [("A", 1), ("B", 5), ("C", 7)]);
    }

    #[test]
    fn comment_after_closing_quote_is_allowed() {
        let file = parse_ok("A=\"a # not a comment\" # a comment\nB='b'\t#c\nC=\"c\"   ");
        assert_eq!(file.value("A"), Some("a # not a comment"));
        assert_eq!(file.value("B"), Some("b"));
        assert_eq!(file.value("C"), Some("c"));
    }

    #[test]
    fn text_after_closing_quote_is_an_error() {
        assert_eq!(
            parse_err("A=\"a\" b\nB='b'c\nC=\"c\"#glued\nD='x'\"y\""),
            [
                ParseError::TrailingText {
                    line: 1,
                    column: 7,
                    key: "A".into()
                },
                ParseError::TrailingText {
                    line: 2,
                    column: 6,
                    key: "B".into()
                },
                ParseError::TrailingText {
                    line: 3,
                    column: 6,
                    key: "C".into()
                },
                ParseError::TrailingText {
                    line: 4,
                    column: 6,
                    key: "D".into()
                },
            ]
        );
    }

    #[test]
    fn unterminated_double_quote_is_an_error() {
        assert_eq!(
            parse_err("A=1\nB = \"never closed\nC=3"),
            [ParseError::UnterminatedQuote {
                line: 2,
                column: 5,
                key: "B".into()
            }]
        );
        // An escaped quote does not close.
        assert_eq!(parse_err(r#"A="x\""#).len(), 1);
    }

    #[test]
    fn unterminated_single_quote_is_an_error() {
        assert_eq!(
            parse_err("A='never closed\nB=2"),
            [ParseError::UnterminatedQuote {
                line: 1,
                column: 3,
                key: "A".into()
            }]
        );
    }

    #[test]
    fn parsing_resumes_after_unterminated_quote() {
        // The lines after the bad quote are read as lines again, and their errors are found.
        assert_eq!(
            parse_err("A=\"open ${X\nB=ok\nbroken\nC=${}"),
            [
                ParseError::UnterminatedQuote {
                    line: 1,
                    column: 3,
                    key: "A".into()
                },
                ParseError::MissingEquals { line: 3, column: 1 },
                ParseError::MalformedReference {
                    line: 4,
                    column: 3,
                    key: "C".into()
                },
            ]
        );
    }

    #[test]
    fn lines_after_multiline_value_are_counted() {
        let text = "A=\"1\n2\n3\"\nB='x\r\ny'\r\n\r\nC=3 # c\nD=\"${A}\n\"\nE=\"oops\" x";
        let errors = parse_err(text);
        assert_eq!(
            errors,
            [ParseError::TrailingText {
                line: 10,
                column: 10,
                key: "E".into()
            }]
        );
        let file = parse_ok(text.trim_end_matches(" x"));
        assert_eq!(
            lines_of(&file),
            [("A", 1), ("B", 4), ("C", 7), ("D", 8), ("E", 10)]
        );
        assert_eq!(file.value("D"), Some("1\n2\n3\n"));
    }

    // --- expansion ---

    #[test]
    fn braced_variable_expands_from_earlier_key() {
        let file = parse_ok("HOST=example.com\nURL=https://${HOST}/x\nQ=\"${URL}?a\"");
        assert_eq!(file.value("URL"), Some("https://example.com/x"));
        assert_eq!(file.value("Q"), Some("https://example.com/x?a"));
    }

    #[test]
    fn reference_sees_latest_earlier_definition_only() {
        let file = parse_ok("A=${B}\nB=1\nC=${B}\nB=2\nD=${B}");
        assert_eq!(file.value("A"), Some(""));
        assert_eq!(file.value("C"), Some("1"));
        assert_eq!(file.value("D"), Some("2"));
    }

    #[test]
    fn variable_falls_back_to_environment() {
        let lookup = |name: &str| (name == "HOME").then(|| "/home/ops".to_owned());
        let options = no_env().with_env(&lookup);
        let file = parse_with("A=${HOME}/x\nHOME=/root\nB=${HOME}", &options);
        let file = file.map_err(|e| e.to_string());
        assert_eq!(
            file.as_ref().map(|f| (f.value("A"), f.value("B"))),
            Ok((Some("/home/ops/x"), Some("/root")))
        );
    }

    #[test]
    fn default_environment_is_the_process_environment() {
        let file = parse("P=${PATH}").map_err(|e| e.to_string());
        let expected = std::env::var("PATH").unwrap_or_default();
        assert_eq!(
            file.map(|f| f.value("P").map(str::to_owned)),
            Ok(Some(expected))
        );
    }

    #[test]
    fn default_applies_when_variable_unset_or_empty() {
        let file = parse_ok(
            "EMPTY=\nA=${UNSET:-fallback}\nB=${EMPTY:-fallback}\nC=\"${UNSET:-two words}\"\nD=${UNSET:-}",
        );
        assert_eq!(file.value("A"), Some("fallback"));
        assert_eq!(file.value("B"), Some("fallback"));
        assert_eq!(file.value("C"), Some("two words"));
        assert_eq!(file.value("D"), Some(""));
        assert!(file.warnings().is_empty());
    }

    #[test]
    fn default_uses_the_escapes_of_its_value() {
        let file = parse_ok(
            r#"A="${U:-say \"hi\"\n}"
B=${U:-C:\dir\$x}"#,
        );
        assert_eq!(file.value("A"), Some("say \"hi\"\n"));
        assert_eq!(file.value("B"), Some(r"C:\dir$x"));
    }

    #[test]
    fn expansion_happens_in_unquoted_and_double_quoted_values() {
        let file = parse_ok("X=1\nA=a${X}b\nB=\"a${X}b\"\nC='a${X}b'");
        assert_eq!(file.value("A"), Some("a1b"));
        assert_eq!(file.value("B"), Some("a1b"));
        assert_eq!(file.value("C"), Some("a${X}b"));
    }

    #[test]
    fn no_expansion_in_single_quotes() {
        let file = parse_ok("X=1\nA='${X} ${UNSET} ${'");
        assert_eq!(file.value("A"), Some("${X} ${UNSET} ${"));
        assert!(file.warnings().is_empty());
    }

    #[test]
    fn escaped_dollar_is_literal() {
        let file = parse_ok(
            r#"X=1
A=\${X}
B="\${X}"
C=pa\$\$word"#,
        );
        assert_eq!(file.value("A"), Some("${X}"));
        assert_eq!(file.value("B"), Some("${X}"));
        assert_eq!(file.value("C"), Some("pa$$word"));
    }

    #[test]
    fn command_substitution_is_never_executed() {
        let file = parse_ok("A=$(rm -rf /)\nB=\"$(id)\" # c\nC=`id`");
        assert_eq!(file.value("A"), Some("$(rm -rf /)"));
        assert_eq!(file.value("B"), Some("$(id)"));
        assert_eq!(file.value("C"), Some("`id`"));
    }

    #[test]
    fn bare_dollar_variable_is_literal() {
        let file = parse_ok("X=1\nA=$X\nB=\"p$ss$\"\nC=$\nD=$$");
        assert_eq!(file.value("A"), Some("$X"));
        assert_eq!(file.value("B"), Some("p$ss$"));
        assert_eq!(file.value("C"), Some("$"));
        assert_eq!(file.value("D"), Some("$$"));
        assert!(file.warnings().is_empty());
    }

    #[test]
    fn expansion_keeps_blanks_of_the_expanded_value() {
        let file = parse_ok("X=\" padded \"\nA=${X}\nB= ${X} x ");
        assert_eq!(file.value("A"), Some(" padded "));
        assert_eq!(file.value("B"), Some(" padded  x"));
    }

    #[test]
    fn undefined_variable_expands_to_empty_with_warning() {
        let file = parse_ok("A=x${NOPE}y\n\nB=\"${ALSO_NOPE}\"");
        assert_eq!(file.value("A"), Some("xy"));
        assert_eq!(file.value("B"), Some(""));
        assert_eq!(
            file.warnings(),
            [
                Warning::UndefinedVariable {
                    key: "A".into(),
                    variable: "NOPE".into(),
                    line: 1,
                    column: 4
                },
                Warning::UndefinedVariable {
                    key: "B".into(),
                    variable: "ALSO_NOPE".into(),
                    line: 3,
                    column: 4
                },
            ]
        );
        assert_eq!(
            file.warnings()[0].to_string(),
            "line 1, column 4: A: `${NOPE}` is not set and has no default; it expands to an empty string"
        );
    }

    #[test]
    fn malformed_reference_is_an_error() {
        let errors = parse_err(
            "A=${}\nB=${1X}\nC=${X-y}\nD=${X:=y}\nE=${X\nF=\"${X\"\nG=${X:-a #c}\nH=\"${X:-\"",
        );
        let at: Vec<_> = errors
            .iter()
            .map(|e| (e.key(), e.line(), e.column()))
            .collect();
        assert_eq!(
            at,
            [
                (Some("A"), Some(1), Some(3)),
                (Some("B"), Some(2), Some(3)),
                (Some("C"), Some(3), Some(3)),
                (Some("D"), Some(4), Some(3)),
                (Some("E"), Some(5), Some(3)),
                (Some("F"), Some(6), Some(4)),
                (Some("G"), Some(7), Some(3)),
                (Some("H"), Some(8), Some(4)),
            ]
        );
        assert!(
            errors
                .iter()
                .all(|e| matches!(e, ParseError::MalformedReference { .. }))
        );
    }

    #[test]
    fn nested_reference_in_default_is_an_error() {
        assert_eq!(
            parse_err("A=${X:-${Y}}"),
            [ParseError::MalformedReference {
                line: 1,
                column: 3,
                key: "A".into()
            }]
        );
    }

    // --- duplicates, order, errors ---

    #[test]
    fn duplicate_key_last_wins_with_warning() {
        let file = parse_ok("A=first\nB=b\nA=second\nA=third");
        assert_eq!(file.value("A"), Some("third"));
        assert_eq!(file.get("A").map(|e| e.line), Some(4));
        assert_eq!(
            file.warnings(),
            [
                Warning::DuplicateKey {
                    key: "A".into(),
                    previous_line: 1,
                    line: 3
                },
                Warning::DuplicateKey {
                    key: "A".into(),
                    previous_line: 3,
                    line: 4
                },
            ]
        );
        assert_eq!(
            file.warnings()[0].to_string(),
            "line 3: A: already set on line 1; the value on line 3 wins"
        );
    }

    #[test]
    fn duplicate_warnings_keep_their_place_among_the_others() {
        let undefined = |key: &str, variable: &str, line| Warning::UndefinedVariable {
            key: key.into(),
            variable: variable.into(),
            line,
            column: 3,
        };
        let duplicate = |key: &str, previous_line, line| Warning::DuplicateKey {
            key: key.into(),
            previous_line,
            line,
        };
        let file = parse_ok("A=1\nB=${X}\nA=2\nC=${Y}\nB=3\nB=${Z}");
        assert_eq!(
            file.warnings(),
            [
                undefined("B", "X", 2),
                duplicate("A", 1, 3),
                undefined("C", "Y", 4),
                duplicate("B", 2, 5),
                // A value's own warnings come before the warning that it replaces another.
                undefined("B", "Z", 6),
                duplicate("B", 5, 6),
            ]
        );
    }

    #[test]
    fn winning_definitions_keep_their_place_and_are_found_by_key() {
        let file = parse_ok("A=1\nB=2\nA=3\nC=${A}\nB=4\nD=5");
        assert_eq!(lines_of(&file), [("A", 3), ("C", 4), ("B", 5), ("D", 6)]);
        for (key, value) in [("A", "3"), ("B", "4"), ("C", "3"), ("D", "5")] {
            assert_eq!(file.value(key), Some(value), "{key}");
        }
        assert_eq!(file.value("E"), None);
    }

    #[test]
    fn references_see_the_latest_definition_so_far() {
        let file = parse_ok("A=1\nB=${A}\nA=2\nC=${A}\nA=3");
        assert_eq!(file.value("B"), Some("1"));
        assert_eq!(file.value("C"), Some("2"));
    }

    #[test]
    fn plain_values_are_read_without_copying_and_the_rest_are_copied() {
        let text = "A=plain text  # note\nB=\"quoted\"\nC='single'\nD=a\\$b\nE=\"x\\ny\"\nF=${A}!\n\
                    G=\"1\r\n2\"\nH=C:\\Users\nI=$5\n";
        let parsed = match parse_borrowed(text.as_bytes(), &no_env()) {
            Ok(parsed) => parsed,
            Err(errors) => panic!("{errors}"),
        };
        let value = |key| {
            let position = parsed.position(key, 0)?;
            parsed.entries().get(position).map(|entry| &entry.value)
        };
        for (key, expected) in [("A", "plain text"), ("B", "quoted"), ("C", "single")] {
            assert!(
                matches!(value(key), Some(Cow::Borrowed(read)) if *read == expected),
                "{key}"
            );
        }
        assert!(matches!(value("H"), Some(Cow::Borrowed(r"C:\Users"))));
        assert!(matches!(value("I"), Some(Cow::Borrowed("$5"))));
        for (key, expected) in [
            ("D", "a$b"),
            ("E", "x\ny"),
            ("F", "plain text!"),
            ("G", "1\n2"),
        ] {
            assert!(
                matches!(value(key), Some(Cow::Owned(read)) if read == expected),
                "{key}: {:?}",
                value(key)
            );
        }
    }

    #[test]
    fn a_position_hint_is_taken_only_when_it_names_the_key() {
        let parsed = match parse_borrowed(b"B=1\nA=2\nC=3", &no_env()) {
            Ok(parsed) => parsed,
            Err(errors) => panic!("{errors}"),
        };
        assert_eq!(parsed.position("A", 1), Some(1));
        assert_eq!(parsed.position("A", 0), Some(1));
        assert_eq!(parsed.position("C", 9), Some(2));
        assert_eq!(parsed.position("D", 0), None);
    }

    #[test]
    fn entries_keep_file_order_of_winning_definition() {
        let file = parse_ok("A=1\nB=2\nC=3\nA=4");
        assert_eq!(lines_of(&file), [("B", 2), ("C", 3), ("A", 4)]);
        assert_eq!(file.value("A"), Some("4"));
        assert!(file.contains_key("B"));
        assert!(!file.contains_key("a"));
    }

    #[test]
    fn all_errors_of_a_file_are_reported() {
        let errors = parse_err("GOOD=1\nno equals\n1BAD=x\nA=\"x\" y\nB=${}\nC='open");
        let lines: Vec<_> = errors.iter().map(ParseError::line).collect();
        assert_eq!(lines, [Some(2), Some(3), Some(4), Some(5), Some(6)]);
    }

    #[test]
    fn error_never_echoes_the_value() {
        let secret = "hunter2sk9Q";
        let lines = [
            secret.to_owned(),
            format!("{secret} more"),
            format!("9{secret}=x"),
            format!("-{secret}=x"),
            format!("KEY=\"{secret}\" {secret}"),
            format!("KEY='{secret}'{secret}"),
            format!("KEY=\"{secret}"),
            format!("KEY={secret}${{{secret}"),
            format!("KEY=\"{secret}${{{secret}:-{secret}\""),
            format!("{secret} KEY={secret}"),
        ];
        for line in lines {
            let errors = ParseErrors(parse_err(&line));
            let shown = format!("{errors}\n{errors:?}");
            assert!(!shown.contains(secret), "{line:?} -> {shown}");
        }
    }

    #[test]
    fn entry_debug_never_shows_the_value() {
        let file = parse_ok("TOKEN=hunter2sk9Q");
        let shown = format!("{file:?}");
        assert!(shown.contains("TOKEN"), "{shown}");
        assert!(!shown.contains("hunter2sk9Q"), "{shown}");
    }

    #[test]
    fn error_messages_are_lowercase_with_position() {
        let errors = parse_err("oops\nA=\"x");
        assert_eq!(
            errors.iter().map(ToString::to_string).collect::<Vec<_>>(),
            [
                "line 1, column 1: expected `KEY=VALUE`",
                "line 2, column 3: A: quoted value is never closed",
            ]
        );
        let all = match parse_with("oops\nA=\"x", &no_env()) {
            Err(errors) => errors.to_string(),
            Ok(_) => String::new(),
        };
        assert_eq!(
            all,
            "line 1, column 1: expected `KEY=VALUE`\nline 2, column 3: A: quoted value is never closed"
        );
    }

    #[test]
    fn file_over_size_cap_is_an_error() {
        let big = "A=1\n".repeat(DEFAULT_MAX_SIZE / 4 + 1);
        let expected = ParseErrors::from(ParseError::TooLarge {
            size: big.len(),
            limit: DEFAULT_MAX_SIZE,
        });
        assert_eq!(parse_with(&big, &no_env()), Err(expected.clone()));
        assert_eq!(parse_bytes(big.as_bytes(), &no_env()), Err(expected));
    }

    #[test]
    fn size_cap_is_configurable() {
        let options = no_env().with_max_size(8);
        assert_eq!(options.max_size(), 8);
        assert!(parse_with("A=123456", &options).is_ok());
        assert_eq!(
            parse_bytes(b"A=1234567", &options).map_err(ParseErrors::into_vec),
            Err(vec![ParseError::TooLarge { size: 9, limit: 8 }])
        );
    }

    #[test]
    fn invalid_utf8_reports_position() {
        let bytes = b"\xef\xbb\xbfA=1\r\nB=\xc3\xa9t\xff\nC=3";
        assert_eq!(
            parse_bytes(bytes, &no_env()).map_err(ParseErrors::into_vec),
            Err(vec![ParseError::InvalidUtf8 {
                line: 2,
                column: 5,
                offset: 13
            }])
        );
        assert_eq!(
            parse_bytes(b"\x80", &no_env()).map_err(ParseErrors::into_vec),
            Err(vec![ParseError::InvalidUtf8 {
                line: 1,
                column: 1,
                offset: 0
            }])
        );
    }

    #[test]
    fn pathological_input_is_linear() {
        // Each of these would take minutes if any step rescanned the rest of the text.
        let inputs = [
            format!("A=\"{}", "${B:-".repeat(100_000)),
            format!("A={}", "${B:-".repeat(100_000)),
            "A='\n".repeat(100_000),
            "A=\"${X\n".repeat(100_000),
            " #".repeat(200_000),
            "x ".repeat(200_000) + "=",
        ];
        for input in inputs {
            let _ = parse_with(&input, &no_env());
        }
    }

    // --- writer ---

    #[test]
    fn writer_quotes_values_that_need_it() {
        let entries = [
            ("BARE", "https://h.example:8080/p?a=b,c@d+e%20"),
            ("EMPTY", ""),
            ("SPACES", " padded "),
            ("HASH", "a #b"),
            ("DOLLAR", "${HOME}"),
            ("BACKSLASH", r"C:\Users"),
            ("QUOTE", "it's \"x\""),
            ("LINES", "a\r\nb\tc"),
        ];
        let text = write_entries(entries).map_err(|e| e.to_string());
        assert_eq!(
            text.as_deref(),
            Ok(concat!(
                "BARE=https://h.example:8080/p?a=b,c@d+e%20\n",
                "EMPTY=\n",
                "SPACES=' padded '\n",
                "HASH='a #b'\n",
                "DOLLAR='${HOME}'\n",
                "BACKSLASH='C:\\Users'\n",
                "QUOTE=\"it's \\\"x\\\"\"\n",
                "LINES=\"a\\r\\nb\\tc\"\n",
            ))
        );
        let file = parse_ok(text.as_deref().unwrap_or_default());
        for (key, value) in entries {
            assert_eq!(file.value(key), Some(value), "{key}");
        }
    }

    #[test]
    fn writer_rejects_invalid_key() {
        let mut out = String::from("KEEP\n");
        assert_eq!(
            write_entry(&mut out, "A.B", "x"),
            Err(WriteError::InvalidKey { key: "A.B".into() })
        );
        assert_eq!(out, "KEEP\n");
        assert!(write_entries([("", "x")]).is_err());
    }

    // --- properties ---

    /// Characters that mean something to the dialect, so that random text reaches every branch.
    const DIALECT: &[char] = &[
        'A', 'b', '_', '1', '=', ' ', '\t', '\n', '\r', '#', '\'', '"', '\\', '$', '{', '}', ':',
        '-', '(', 'e', 'x', 'p', 'o', 'r', 't', 'é', '\u{feff}', '\0',
    ];

    fn dialect_text() -> impl Strategy<Value = String> {
        prop::collection::vec(prop::sample::select(DIALECT), 0..256)
            .prop_map(|chars| chars.into_iter().collect())
    }

    fn key() -> impl Strategy<Value = String> {
        "[A-Za-z_][A-Za-z0-9_]{0,12}"
    }

    fn value() -> impl Strategy<Value = String> {
        prop_oneof![any::<String>(), dialect_text()]
    }

    /// What every successful parse must satisfy, whatever the input.
    fn check_invariants(file: &EnvFile) {
        let mut previous_line = 0;
        for entry in file {
            assert!(is_valid_key(&entry.key), "{:?}", entry.key);
            assert!(entry.line > previous_line && entry.column >= 1);
            previous_line = entry.line;
            assert_eq!(file.get(&entry.key), Some(entry));
        }
    }

    proptest! {
        #[test]
        fn parse_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            match parse_bytes(&bytes, &no_env()) {
                Ok(file) => check_invariants(&file),
                Err(errors) => prop_assert!(!errors.to_string().is_empty()),
            }
        }

        #[test]
        fn parse_never_panics_on_dialect_text(text in dialect_text()) {
            match parse_with(&text, &no_env()) {
                Ok(file) => {
                    check_invariants(&file);
                    for warning in file.warnings() {
                        prop_assert!(!warning.to_string().is_empty());
                    }
                }
                Err(errors) => {
                    for error in &errors {
                        prop_assert!(error.line().is_some_and(|line| line >= 1));
                    }
                }
            }
        }

        #[test]
        fn written_map_parses_back_to_itself(
            map in prop::collection::btree_map(key(), value(), 0..16)
        ) {
            let text = write_entries(&map).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let file = parse_with(&text, &no_env())
                .map_err(|e| TestCaseError::fail(format!("{e}\n{text:?}")))?;
            let parsed: BTreeMap<String, String> = file
                .into_entries()
                .into_iter()
                .map(|entry| (entry.key, entry.value))
                .collect();
            prop_assert_eq!(parsed, map);
        }

        #[test]
        fn errors_never_echo_the_value(secret in "[a-z]{4}[0-9]{4}[a-z]{4}", template in 0..6_usize) {
            let text = match template {
                0 => format!("A=\"{secret}\" {secret}"),
                1 => secret.clone(),
                2 => format!("A='{secret}"),
                3 => format!("{secret}-x={secret}"),
                4 => format!("A=${{{secret}-{secret}}}"),
                _ => format!("A=\"${{X:-{secret}\""),
            };
            match parse_with(&text, &no_env()) {
                Ok(_) => prop_assert!(false, "expected an error for {:?}", text),
                Err(errors) => prop_assert!(!errors.to_string().contains(&secret)),
            }
        }
    }
}
