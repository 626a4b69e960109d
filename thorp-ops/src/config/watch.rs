//! Watches a config file through its parent directory, so editor saves and ConfigMap swaps
//! keep the watch alive.
//!
//! Watching the file itself (as the seed did) loses the watch at the first save that replaces
//! the file: the watched inode is gone. The directory stays, so we watch it and pick the events
//! that concern the file. A file that is a symlink (a Kubernetes ConfigMap mounts
//! `config.env -> ..data/config.env` and swaps `..data` by rename, so no event names the file)
//! is treated as changed by any finished write or rename in its directory; the reload then
//! compares values, so an unrelated event costs a read and changes nothing.

use notify::event::{AccessKind, AccessMode, ModifyKind, RenameMode};
use notify::{Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Keeps the directory watch alive; dropping it stops the watcher and its thread.
pub(crate) struct FileWatcher {
    _watcher: RecommendedWatcher,
}

/// Where to watch for `file`: its directory, and which names in it concern it.
pub(crate) struct Target {
    pub(crate) dir: PathBuf,
    name: OsString,
    /// The file is a symlink: any finished change in the directory may have retargeted it.
    any_name: bool,
}

impl Target {
    pub(crate) fn of(file: &Path) -> std::io::Result<Self> {
        let name = file
            .file_name()
            .ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "config path has no file name",
                )
            })?
            .to_owned();
        let dir = match file.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let any_name =
            std::fs::symlink_metadata(file).is_ok_and(|meta| meta.file_type().is_symlink());
        Ok(Self {
            dir,
            name,
            any_name,
        })
    }

    /// Whether `event` means a write to the file finished.
    pub(crate) fn concerns(&self, event: &Event) -> bool {
        finished_write(&event.kind)
            && (self.any_name
                || event
                    .paths
                    .iter()
                    .any(|path| path.file_name() == Some(self.name.as_os_str())))
    }
}

/// Events that mean content is in place: a closed write, a rename onto a name, a creation.
/// Opens, reads and closes after reading are not (the reload's own read would loop), and
/// neither is a rename away from a name (the file is gone, not new).
fn finished_write(kind: &EventKind) -> bool {
    match kind {
        EventKind::Create(_) => true,
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Modify(ModifyKind::Name(RenameMode::From)) => false,
        EventKind::Modify(ModifyKind::Name(_)) => true,
        // Backends without close-write events (kqueue, FSEvents, polling) only say "modified";
        // on Linux a data event fires at every write() call, mid-write, so it is skipped there.
        EventKind::Modify(ModifyKind::Data(_) | ModifyKind::Any) => !cfg!(target_os = "linux"),
        _ => false,
    }
}

/// Starts watching `target`; `changed` runs on the watcher's thread for each relevant event.
pub(crate) fn watch(
    target: Target,
    changed: impl Fn() + Send + 'static,
) -> notify::Result<FileWatcher> {
    let dir = target.dir.clone();
    let mut watcher =
        notify::recommended_watcher(move |result: notify::Result<Event>| match result {
            Ok(event) if target.concerns(&event) => {
                tracing::debug!(kind = ?event.kind, paths = ?event.paths, "config file event");
                changed();
            }
            Ok(event) => {
                tracing::trace!(kind = ?event.kind, paths = ?event.paths, "ignored file event")
            }
            Err(error) => tracing::warn!(%error, "config watcher error"),
        })?;
    watcher.watch(&dir, RecursiveMode::NonRecursive)?;
    Ok(FileWatcher { _watcher: watcher })
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{CreateKind, DataChange};

    fn event(kind: EventKind, path: &str) -> Event {
        Event::new(kind).add_path(PathBuf::from(path))
    }

    fn target(any_name: bool) -> Target {
        Target {
            dir: PathBuf::from("/etc/app"),
            name: OsString::from("app.env"),
            any_name,
        }
    }

    #[test]
    fn finished_writes_to_the_file_count() {
        let target = target(false);
        assert!(target.concerns(&event(
            EventKind::Access(AccessKind::Close(AccessMode::Write)),
            "/etc/app/app.env"
        )));
        assert!(target.concerns(&event(
            EventKind::Modify(ModifyKind::Name(RenameMode::To)),
            "/etc/app/app.env"
        )));
        assert!(target.concerns(&event(
            EventKind::Create(CreateKind::File),
            "/etc/app/app.env"
        )));
    }

    #[test]
    fn reads_opens_and_other_files_do_not() {
        let target = target(false);
        assert!(!target.concerns(&event(
            EventKind::Access(AccessKind::Close(AccessMode::Read)),
            "/etc/app/app.env"
        )));
        assert!(!target.concerns(&event(
            EventKind::Access(AccessKind::Open(AccessMode::Any)),
            "/etc/app/app.env"
        )));
        assert!(!target.concerns(&event(
            EventKind::Access(AccessKind::Close(AccessMode::Write)),
            "/etc/app/other.env"
        )));
        assert!(!target.concerns(&event(
            EventKind::Modify(ModifyKind::Name(RenameMode::From)),
            "/etc/app/app.env"
        )));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn mid_write_data_events_are_skipped_on_linux() {
        let kind = EventKind::Modify(ModifyKind::Data(DataChange::Content));
        assert!(!target(false).concerns(&event(kind, "/etc/app/app.env")));
    }

    #[test]
    fn symlinked_files_count_any_finished_change_in_the_directory() {
        let target = target(true);
        assert!(target.concerns(&event(
            EventKind::Modify(ModifyKind::Name(RenameMode::To)),
            "/etc/app/..data"
        )));
        assert!(!target.concerns(&event(
            EventKind::Access(AccessKind::Open(AccessMode::Any)),
            "/etc/app/..data"
        )));
    }
}
