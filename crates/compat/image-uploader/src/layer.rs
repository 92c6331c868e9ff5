//! A package zip as a single image layer, exactly as the original uploader builds it (seed
//! 004, `archive.ReadZipAsTar(zip, "/", 0, 0, -1, true, …)`): one tar entry per zip entry in
//! zip order, named by its absolute path (`/` joined with the zip name, no trailing slash),
//! with the zip's permission bits (`0777` for zips made on FAT or VFAT), modification time
//! 1980-01-01T00:00:01Z, uid and gid 0; symlinks point where their content says. The tar is
//! gzipped (level 1) and streamed into a staged blob while its own SHA-256 (the diff ID) is
//! computed: neither the zip's contents nor the layer are ever held whole.
//!
//! Refused, so nothing is stored: entry names with `..` or a leading `/`, symlinks whose target
//! climbs out of the root, and contents past the size limit (counted as written, so a zip
//! bomb's headers cannot lie about it).

use std::io::{Read, Seek, Write};
use std::path::PathBuf;

use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;
use sha2::Digest as _;
use wharf_core::blob::{BlobStore, StageOptions, StagedBlob};
use wharf_core::digest::Sha256;
use wharf_core::{Error, Result};

/// 1980-01-01T00:00:01Z, the mtime of every entry.
const MTIME: u64 = 315_532_801;
/// Bytes gathered before they are handed to the staging stream.
const CHUNK: usize = 256 << 10;

/// The built layer: its blob (gzip), and the SHA-256 of the uncompressed tar.
pub(crate) struct Layer {
    pub staged: StagedBlob,
    pub diff_id: Sha256,
}

/// Builds the layer of the zip at `zip`; the tar may hold at most `max_unpacked` bytes.
///
/// # Errors
/// [`Error::Invalid`] for a zip that cannot be read or holds a refused entry,
/// [`Error::TooLarge`] past the limit, or a storage error.
pub(crate) async fn build(blobs: &BlobStore, zip: PathBuf, max_unpacked: u64) -> Result<Layer> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(4);
    let writer = tokio::task::spawn_blocking(move || {
        let sink = Sink {
            tx: tx.clone(),
            buf: Vec::with_capacity(CHUNK),
        };
        let result = std::fs::File::open(&zip)
            .map_err(|e| Error::invalid(format!("cannot open the package zip: {e}")))
            .and_then(|file| write_layer(file, sink, max_unpacked));
        if let Err(e) = &result {
            // The staging side must fail too, never commit a truncated layer.
            let _ = tx.blocking_send(Err(std::io::Error::other(e.to_string())));
        }
        result
    });
    let stream = futures::stream::poll_fn(move |cx| rx.poll_recv(cx));
    let staged = blobs
        .stage(
            Box::pin(stream),
            &StageOptions {
                digests: wharf_core::digest::DigestSet::SHA256,
                ..StageOptions::default()
            },
        )
        .await;
    let diff_id = writer
        .await
        .map_err(|e| Error::internal("building the layer", e))??;
    Ok(Layer {
        staged: staged?,
        diff_id,
    })
}

/// Hands written bytes to the staging stream in chunks.
struct Sink {
    tx: tokio::sync::mpsc::Sender<std::io::Result<Bytes>>,
    buf: Vec<u8>,
}

impl Sink {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::other("the layer's storage stopped reading"))
    }
}

impl Write for Sink {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

/// Hashes and counts the uncompressed tar on its way to gzip, refusing it past `limit`.
struct Tee<W> {
    inner: W,
    hasher: sha2::Sha256,
    written: u64,
    limit: u64,
}

impl<W: Write> Write for Tee<W> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.written += data.len() as u64;
        if self.written > self.limit {
            return Err(std::io::Error::new(
                std::io::ErrorKind::FileTooLarge,
                format!("the unpacked package is over {} bytes", self.limit),
            ));
        }
        self.hasher.update(data);
        self.inner.write_all(data)?;
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn write_layer<R: Read + Seek>(zip: R, sink: Sink, limit: u64) -> Result<Sha256> {
    let mut archive =
        zip::ZipArchive::new(zip).map_err(|e| Error::invalid(format!("not a zip file: {e}")))?;
    let gzip = GzEncoder::new(sink, Compression::fast());
    let mut tar = tar::Builder::new(Tee {
        inner: gzip,
        hasher: sha2::Sha256::new(),
        written: 0,
        limit,
    });
    let io = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::FileTooLarge => Error::TooLarge { limit },
        _ => Error::invalid(format!("writing the layer: {e}")),
    };
    for index in 0..archive.len() {
        let mut entry = archive
            .by_index(index)
            .map_err(|e| Error::invalid(format!("zip entry {index}: {e}")))?;
        append_entry(&mut tar, &mut entry, index, io)?;
    }
    let tee = tar.into_inner().map_err(io)?;
    let diff_id = Sha256::parse(&hex::encode(tee.hasher.finalize()))?;
    let mut sink = tee.inner.finish().map_err(io)?;
    sink.flush().map_err(io)?;
    Ok(diff_id)
}

/// The layer's tar stream: gzipped into the sink, hashed and bounded on the way.
type LayerTar = tar::Builder<Tee<GzEncoder<Sink>>>;

/// Appends one zip entry to the layer with a fixed owner and time: a directory, a symlink
/// (its target checked to stay inside the layer) or a regular file of its declared size.
fn append_entry<R: Read>(
    tar: &mut LayerTar,
    entry: &mut zip::read::ZipFile<'_, R>,
    index: usize,
    io: impl Fn(std::io::Error) -> Error,
) -> Result<()> {
    let name = entry
        .name()
        .map_err(|e| Error::invalid(format!("zip entry {index}: {e}")))?
        .into_owned();
    let path = entry_path(&name)?;
    let mode = entry_mode(entry);
    let mut header = tar::Header::new_gnu();
    header.set_mtime(MTIME);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mode(mode & 0o7777);
    if entry.is_dir() {
        header.set_entry_type(tar::EntryType::Directory);
        header.set_size(0);
        append(tar, &mut header, &path, None, std::io::empty()).map_err(io)
    } else if mode & 0o170_000 == 0o120_000 {
        let mut target = String::new();
        entry
            .by_ref()
            .take(4096)
            .read_to_string(&mut target)
            .map_err(|e| Error::invalid(format!("symlink {name}: {e}")))?;
        check_link(&path, &target)?;
        header.set_entry_type(tar::EntryType::Symlink);
        header.set_size(0);
        append(tar, &mut header, &path, Some(&target), std::io::empty()).map_err(io)
    } else {
        header.set_entry_type(tar::EntryType::Regular);
        header.set_size(entry.size());
        // The declared size bounds what is read; the tee bounds the total.
        let declared = entry.size();
        append(tar, &mut header, &path, None, entry.by_ref().take(declared)).map_err(io)
    }
}

/// `/` joined with the zip name, without a trailing slash; `..` and absolute names refused.
fn entry_path(name: &str) -> Result<String> {
    let trimmed = name.trim_end_matches('/');
    if name.starts_with('/') || name.contains('\0') {
        return Err(Error::invalid(format!(
            "zip entry {name:?} has an absolute name"
        )));
    }
    let mut parts = Vec::new();
    for part in trimmed.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                return Err(Error::invalid(format!(
                    "zip entry {name:?} climbs out of the package with .."
                )));
            }
            part => parts.push(part),
        }
    }
    Ok(format!("/{}", parts.join("/")))
}

/// A symlink at `path` to `target` must stay inside the root.
fn check_link(path: &str, target: &str) -> Result<()> {
    if target.starts_with('/') {
        return Ok(());
    }
    let mut depth = path.matches('/').count().saturating_sub(1);
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." if depth == 0 => {
                return Err(Error::invalid(format!(
                    "symlink {path} -> {target} points outside the package"
                )));
            }
            ".." => depth -= 1,
            _ => depth += 1,
        }
    }
    Ok(())
}

/// The zip entry's mode: Unix permission bits (and type) for zips made on Unix or macOS,
/// `0777` for FAT and VFAT (as the original), MS-DOS attributes for NTFS, none otherwise.
fn entry_mode<R: Read>(entry: &zip::read::ZipFile<'_, R>) -> u32 {
    match entry.system() {
        zip::System::Dos | zip::System::VFAT => 0o777,
        zip::System::Unix => entry.external_attributes() >> 16,
        zip::System::WindowsNTFS => {
            if entry.is_dir() {
                0o777
            } else if entry.external_attributes() & 1 == 1 {
                0o444
            } else {
                0o666
            }
        }
        _ => entry.unix_mode().unwrap_or(0),
    }
}

/// Appends an entry named by an absolute path (which the tar crate's path setters refuse):
/// short names go in the header, longer ones in a GNU long-name entry before it, as GNU tar
/// writes them; likewise long link targets.
fn append<W: Write, R: Read>(
    tar: &mut tar::Builder<W>,
    header: &mut tar::Header,
    path: &str,
    link: Option<&str>,
    data: R,
) -> std::io::Result<()> {
    long_entry(tar, b'L', path)?;
    put_bytes(&mut header.as_old_mut().name, path.as_bytes());
    if let Some(link) = link {
        long_entry(tar, b'K', link)?;
        put_bytes(&mut header.as_old_mut().linkname, link.as_bytes());
    }
    header.set_cksum();
    tar.append(header, data)
}

fn long_entry<W: Write>(tar: &mut tar::Builder<W>, kind: u8, text: &str) -> std::io::Result<()> {
    if text.len() < 100 {
        return Ok(());
    }
    let mut long = tar::Header::new_gnu();
    put_bytes(&mut long.as_old_mut().name, b"././@LongLink");
    long.set_mode(0o644);
    long.set_uid(0);
    long.set_gid(0);
    long.set_mtime(0);
    long.set_entry_type(tar::EntryType::new(kind));
    let mut data = text.as_bytes().to_vec();
    data.push(0);
    long.set_size(data.len() as u64);
    long.set_cksum();
    tar.append(&long, data.as_slice())
}

/// Copies `value` into a fixed header field, truncated, zero-filled.
fn put_bytes(field: &mut [u8], value: &[u8]) {
    field.fill(0);
    let n = value.len().min(field.len());
    field[..n].copy_from_slice(&value[..n]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_absolute_and_may_not_climb() {
        assert_eq!(entry_path("app/bin/").unwrap(), "/app/bin");
        assert_eq!(entry_path("./a/./b").unwrap(), "/a/b");
        assert!(entry_path("../etc/passwd").is_err());
        assert!(entry_path("a/../../b").is_err());
        assert!(entry_path("/etc/passwd").is_err());
    }

    #[test]
    fn links_may_not_leave_the_root() {
        assert!(check_link("/app/lib/link", "../bin/tool").is_ok());
        assert!(check_link("/app/link", "../etc").is_ok());
        assert!(check_link("/app/link", "../../etc").is_err());
        assert!(check_link("/link", "/usr/lib").is_ok());
        assert!(check_link("/a/b/c", "x/../../../..").is_err());
    }
}
