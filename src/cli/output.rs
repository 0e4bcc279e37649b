//! Where the command line writes: stdout, or a file that is complete or absent.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use tempfile::TempPath;

use super::io_error;
use wabill::Error;

/// An output: stdout; a file, written under a temporary name beside it and renamed when
/// complete, so that a failed run leaves no half-written file; or something that is not a
/// file (`/dev/null`, a named pipe), written in place. Every message names the path as the
/// user gave it, never the temporary file's.
pub enum Output {
    Stdout(BufWriter<io::Stdout>),
    File {
        out: BufWriter<File>,
        temp: TempPath,
        /// Where it goes (a link's target: the link stays a link).
        path: PathBuf,
        name: String,
    },
    InPlace {
        out: BufWriter<File>,
        name: String,
    },
}

impl Output {
    pub fn create(path: &str) -> Result<Output, Error> {
        if path == "-" {
            return Ok(Output::Stdout(BufWriter::new(io::stdout())));
        }
        let name = path.to_string();
        let given = PathBuf::from(path);
        let target = match std::fs::metadata(&given) {
            Ok(m) if m.is_dir() => {
                let e = io::Error::new(io::ErrorKind::IsADirectory, "a directory, not a file");
                return Err(io_error(path, e));
            }
            Ok(m) if !m.is_file() => {
                let file = OpenOptions::new().write(true).open(&given).map_err(|e| io_error(path, e))?;
                return Ok(Output::InPlace { out: BufWriter::new(file), name });
            }
            Ok(_) => std::fs::canonicalize(&given).unwrap_or(given),
            Err(_) => given,
        };
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        // The temporary file is opened here rather than by `tempfile_in`, whose errors (and
        // those of writing through it) name the temporary path.
        let temp = tempfile::Builder::new()
            .prefix(".wabill-")
            .make_in(&dir, create_new)
            .map_err(|e| io_error(path, e))?;
        let (file, temp) = temp.into_parts();
        Ok(Output::File { out: BufWriter::new(file), temp, path: target, name })
    }

    /// The output as the user named it, for messages.
    pub fn name(&self) -> String {
        match self {
            Output::Stdout(_) => "<stdout>".into(),
            Output::File { name, .. } | Output::InPlace { name, .. } => name.clone(),
        }
    }

    /// Flushes and, for a file, moves it into place.
    pub fn finish(self) -> Result<(), Error> {
        match self {
            Output::Stdout(mut w) => w.flush().map_err(|e| io_error("<stdout>", e)),
            Output::InPlace { out, name } => {
                out.into_inner().map_err(|e| io_error(&name, e.into_error()))?;
                Ok(())
            }
            Output::File { out, temp, path, name } => {
                let file = out.into_inner().map_err(|e| io_error(&name, e.into_error()))?;
                drop(file);
                temp.persist(&path).map_err(|e| io_error(&name, e.error))
            }
        }
    }
}

/// A new file at `path`, with the permissions of any new file (0o666 less the umask), which
/// it keeps once renamed.
fn create_new(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o666);
    options.open(path)
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Output::Stdout(w) => w.write(buf),
            Output::File { out, .. } | Output::InPlace { out, .. } => out.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Output::Stdout(w) => w.flush(),
            Output::File { out, .. } | Output::InPlace { out, .. } => out.flush(),
        }
    }
}
