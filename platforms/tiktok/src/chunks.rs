//! Chunk math for `FILE_UPLOAD`, exactly as TikTok's media transfer guide states it.

use std::ops::Range;

/// Smallest chunk TikTok accepts (except a video smaller than this, sent whole).
pub const MIN_CHUNK_BYTES: u64 = 5 * 1024 * 1024;
/// Largest chunk TikTok accepts (the last chunk may be larger: it takes the remainder).
pub const MAX_CHUNK_BYTES: u64 = 64 * 1024 * 1024;
/// Largest last chunk TikTok accepts.
pub const MAX_LAST_CHUNK_BYTES: u64 = 128 * 1024 * 1024;
/// Most chunks in one upload.
pub const MAX_CHUNKS: u64 = 1000;

/// How one video is cut into chunks.
///
/// - the preferred size is kept inside 5 MiB – 64 MiB;
/// - a video no larger than one chunk is sent whole (`chunk_size` = `video_size`);
/// - `total_chunk_count` = ⌊`video_size` / `chunk_size`⌋, the remainder joining the
///   last chunk;
/// - never more than 1000 chunks (the chunk grows instead), and a video over 64 MiB
///   always in at least two.
///
/// ```
/// use fanout_tiktok::ChunkPlan;
/// const MIB: u64 = 1024 * 1024;
/// let plan = ChunkPlan::new(12 * MIB, 5 * MIB);
/// assert_eq!((plan.chunk_size, plan.total_chunk_count), (5 * MIB, 2));
/// assert_eq!(plan.range(1), 5 * MIB..12 * MIB);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkPlan {
    /// The whole video, in bytes.
    pub video_size: u64,
    /// The size of every chunk but the last, in bytes.
    pub chunk_size: u64,
    /// How many chunks are sent.
    pub total_chunk_count: u64,
}

impl ChunkPlan {
    /// Plans the upload of `video_size` bytes with chunks of about `preferred` bytes.
    pub fn new(video_size: u64, preferred: u64) -> Self {
        let preferred = preferred.clamp(MIN_CHUNK_BYTES, MAX_CHUNK_BYTES);
        if video_size <= preferred {
            return Self {
                video_size,
                chunk_size: video_size,
                total_chunk_count: 1,
            };
        }
        let mut chunk_size = preferred.max(video_size.div_ceil(MAX_CHUNKS));
        if video_size / chunk_size < 2 && video_size > MAX_CHUNK_BYTES {
            // TikTok wants a video over 64 MB in several chunks: halve it.
            chunk_size = video_size.div_ceil(2);
        }
        Self {
            video_size,
            chunk_size,
            total_chunk_count: (video_size / chunk_size).max(1),
        }
    }

    /// The byte range of chunk `index` (0-based); the last one runs to the end.
    pub fn range(&self, index: u64) -> Range<u64> {
        let start = index.saturating_mul(self.chunk_size).min(self.video_size);
        let end = if index + 1 >= self.total_chunk_count {
            self.video_size
        } else {
            (start + self.chunk_size).min(self.video_size)
        };
        start..end
    }

    /// Every chunk's range, in upload order.
    pub fn ranges(&self) -> impl Iterator<Item = Range<u64>> + '_ {
        (0..self.total_chunk_count).map(|i| self.range(i))
    }
}
