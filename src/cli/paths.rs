//! The files a command names: an output must not overwrite an input or another output, only
//! one output may be stdout and only one input stdin (`-`). Checked before anything is read;
//! a clash is bad usage.

use std::path::{Path, PathBuf};

/// A file a command reads or writes: the option naming it (`LOG` for a log) and its path as
/// given.
pub struct Named<'a> {
    pub option: &'static str,
    pub path: &'a Path,
}

impl<'a> Named<'a> {
    pub fn new(option: &'static str, path: &'a (impl AsRef<Path> + ?Sized)) -> Named<'a> {
        Named { option, path: path.as_ref() }
    }

    fn is_std(&self) -> bool {
        self.path == Path::new("-")
    }
}

/// What a path names, so that two spellings of one file are found equal.
#[derive(Debug, PartialEq, Eq)]
enum Identity {
    /// An existing file: its device and inode (through links, hard links too); off Unix, its
    /// canonical path.
    #[cfg(unix)]
    File(u64, u64),
    #[cfg(not(unix))]
    File(PathBuf),
    /// A file yet to be created: its directory's canonical path and its name (or, when the
    /// directory does not exist either, the path made absolute).
    New(PathBuf),
}

/// What `path` names; `None` for what is not a regular file (a directory, `/dev/null`, a
/// named pipe), which no output overwrites.
fn identity(path: &Path) -> Option<Identity> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::MetadataExt;
                Some(Identity::File(m.dev(), m.ino()))
            }
            #[cfg(not(unix))]
            {
                std::fs::canonicalize(path).ok().map(Identity::File)
            }
        }
        Ok(_) => None,
        Err(_) => {
            let absolute = || std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
            let new = match (path.parent(), path.file_name()) {
                (Some(dir), Some(name)) => {
                    let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
                    std::fs::canonicalize(dir).map_or_else(|_| absolute(), |dir| dir.join(name))
                }
                _ => absolute(),
            };
            Some(Identity::New(new))
        }
    }
}

/// Checks the inputs and outputs of one command; the message says which two clash.
pub fn check(inputs: &[Named], outputs: &[Named]) -> Result<(), String> {
    let stdout: Vec<&Named> = outputs.iter().filter(|o| o.is_std()).collect();
    if let [a, b, ..] = stdout[..] {
        return Err(format!("{} and {} both write to stdout (-): only one output may", a.option, b.option));
    }
    let stdin: Vec<&Named> = inputs.iter().filter(|i| i.is_std()).collect();
    if let [a, b, ..] = stdin[..] {
        return Err(format!("{} and {} both read stdin (-): only one input may", a.option, b.option));
    }
    let (inputs, outputs) = (files(inputs), files(outputs));
    for (i, (a, id)) in outputs.iter().enumerate() {
        if let Some((b, _)) = outputs[i + 1..].iter().find(|(_, other)| other == id) {
            return Err(same(a, b, "each output needs a file of its own"));
        }
        if let Some((b, _)) = inputs.iter().find(|(_, other)| other == id) {
            return Err(same(a, b, "an output must not overwrite an input"));
        }
    }
    Ok(())
}

/// The files among `named` (not stdin or stdout), with what each names.
fn files<'n, 'a>(named: &'n [Named<'a>]) -> Vec<(&'n Named<'a>, Identity)> {
    named.iter().filter(|n| !n.is_std()).filter_map(|n| identity(n.path).map(|id| (n, id))).collect()
}

fn same(a: &Named, b: &Named, why: &str) -> String {
    let (pa, pb) = (a.path.display(), b.path.display());
    if a.path == b.path {
        format!("{} and {} both name {pa}: {why}", a.option, b.option)
    } else {
        format!("{} ({pa}) and {} ({pb}) name the same file: {why}", a.option, b.option)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One file however it is spelt: relative or absolute, through `.` and `..`, through a
    /// link; a file yet to be created too.
    #[test]
    fn one_file_however_it_is_spelt() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("log.csv");
        std::fs::write(&file, "x").unwrap();
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        let dotted = sub.join("..").join(".").join("log.csv");
        assert_eq!(identity(&file), identity(&dotted));
        #[cfg(unix)]
        {
            let link = dir.path().join("link.csv");
            std::os::unix::fs::symlink(&file, &link).unwrap();
            assert_eq!(identity(&file), identity(&link));
        }
        let new = dir.path().join("new.csv");
        assert_eq!(identity(&new), identity(&sub.join("..").join("new.csv")));
        assert_ne!(identity(&new), identity(&file));
        assert_eq!(identity(dir.path()), None);
        let check = |out: &Path| check(&[Named::new("LOG", &file)], &[Named::new("--lines", out)]);
        assert!(check(&new).is_ok());
        assert_eq!(
            check(&dotted),
            Err(format!(
                "--lines ({}) and LOG ({}) name the same file: an output must not overwrite an input",
                dotted.display(),
                file.display()
            ))
        );
    }
}
