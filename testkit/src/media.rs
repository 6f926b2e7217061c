//! Sample media whose format is recognised from its bytes, of any size.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use fanout_core::MediaFile;

/// An MP4 `ftyp` box: enough for format detection.
const MP4_HEAD: &[u8] = &[
    0, 0, 0, 0x18, b'f', b't', b'y', b'p', b'i', b's', b'o', b'm', 0, 0, 2, 0, b'i', b's', b'o',
    b'm', b'i', b's', b'o', b'2',
];
/// A JPEG start-of-image and JFIF header.
const JPEG_HEAD: &[u8] = &[
    0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0,
];
/// A PNG signature.
const PNG_HEAD: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

/// Deterministic filler: byte `i` of a sample is a function of `i` and `seed`.
fn filler(i: usize, seed: u8) -> u8 {
    (i.wrapping_mul(31).wrapping_add(seed as usize * 7) % 251) as u8
}

fn sample(head: &[u8], len: usize, seed: u8) -> Vec<u8> {
    let mut bytes: Vec<u8> = (0..len.max(head.len())).map(|i| filler(i, seed)).collect();
    bytes[..head.len()].copy_from_slice(head);
    bytes
}

/// `len` bytes recognised as `video/mp4`.
pub fn mp4_bytes(len: usize) -> Vec<u8> {
    sample(MP4_HEAD, len, 1)
}

/// `len` bytes recognised as `image/jpeg`; `seed` makes photos differ.
pub fn jpeg_bytes(len: usize, seed: u8) -> Vec<u8> {
    sample(JPEG_HEAD, len, seed)
}

/// `len` bytes recognised as `image/png`.
pub fn png_bytes(len: usize) -> Vec<u8> {
    sample(PNG_HEAD, len, 3)
}

/// Writes an MP4 sample of `len` bytes to `path` without holding it in memory.
pub fn write_mp4_file(path: &Path, len: u64) -> std::io::Result<()> {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    let block: Vec<u8> = (0..1 << 20).map(|i| filler(i, 1)).collect();
    let mut written = 0u64;
    file.write_all(MP4_HEAD)?;
    written += MP4_HEAD.len() as u64;
    while written < len {
        let n = ((len - written) as usize).min(block.len());
        file.write_all(&block[..n])?;
        written += n as u64;
    }
    file.flush()
}

/// A spooled MP4 of `len` bytes in `dir`.
pub async fn spooled_mp4(dir: &Path, len: usize) -> Arc<MediaFile> {
    spooled(dir, mp4_bytes(len), "clip.mp4").await
}

/// A spooled JPEG of `len` bytes in `dir`.
pub async fn spooled_jpeg(dir: &Path, len: usize, seed: u8) -> Arc<MediaFile> {
    spooled(dir, jpeg_bytes(len, seed), "photo.jpg").await
}

async fn spooled(dir: &Path, bytes: Vec<u8>, name: &str) -> Arc<MediaFile> {
    match MediaFile::from_bytes(dir, bytes, Some(name.to_string())).await {
        Ok(file) => Arc::new(file),
        Err(err) => panic!("spooling a sample to {} failed: {err}", dir.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn samples_are_recognised() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            spooled_mp4(dir.path(), 1000).await.content_type(),
            "video/mp4"
        );
        assert_eq!(
            spooled_jpeg(dir.path(), 1000, 1).await.content_type(),
            "image/jpeg"
        );
        let png = MediaFile::from_bytes(dir.path(), png_bytes(100), None)
            .await
            .unwrap();
        assert_eq!(png.content_type(), "image/png");
        assert_ne!(jpeg_bytes(100, 1), jpeg_bytes(100, 2));
    }
}
