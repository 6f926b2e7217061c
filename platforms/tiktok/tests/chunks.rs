//! Chunk math, as TikTok's media transfer guide states it.

use fanout_tiktok::{ChunkPlan, MAX_CHUNK_BYTES, MIN_CHUNK_BYTES};

const MIB: u64 = 1024 * 1024;

#[test]
fn twelve_mib_in_five_mib_chunks_is_two_chunks_with_the_remainder_last() {
    let plan = ChunkPlan::new(12 * MIB, 5 * MIB);
    assert_eq!(plan.chunk_size, 5 * MIB);
    assert_eq!(plan.total_chunk_count, 2);
    assert_eq!(
        plan.ranges().collect::<Vec<_>>(),
        vec![0..5 * MIB, 5 * MIB..12 * MIB]
    );
}

#[test]
fn a_video_under_five_mb_is_one_whole_chunk() {
    let plan = ChunkPlan::new(4_000_000, 10 * MIB);
    assert_eq!((plan.chunk_size, plan.total_chunk_count), (4_000_000, 1));
    assert_eq!(plan.range(0), 0..4_000_000);
}

#[test]
fn a_video_smaller_than_the_preferred_chunk_is_sent_whole() {
    let plan = ChunkPlan::new(8 * MIB, 10 * MIB);
    assert_eq!((plan.chunk_size, plan.total_chunk_count), (8 * MIB, 1));
}

#[test]
fn count_is_rounded_down_and_the_last_chunk_takes_the_rest() {
    let size = 50_000_123;
    let plan = ChunkPlan::new(size, 10 * MIB);
    assert_eq!(plan.total_chunk_count, size / (10 * MIB));
    assert_eq!(plan.total_chunk_count, 4);
    let ranges: Vec<_> = plan.ranges().collect();
    assert_eq!(ranges[3], 30 * MIB..size);
    assert_eq!(ranges.iter().map(|r| r.end - r.start).sum::<u64>(), size);
}

#[test]
fn the_preferred_size_is_kept_inside_tiktoks_bounds() {
    assert_eq!(ChunkPlan::new(100 * MIB, 1).chunk_size, MIN_CHUNK_BYTES);
    assert_eq!(
        ChunkPlan::new(1024 * MIB, u64::MAX).chunk_size,
        MAX_CHUNK_BYTES
    );
}

#[test]
fn a_video_over_64_mib_is_never_one_chunk() {
    let plan = ChunkPlan::new(100 * MIB, 64 * MIB);
    assert_eq!((plan.chunk_size, plan.total_chunk_count), (50 * MIB, 2));
}

#[test]
fn never_more_than_1000_chunks() {
    let size = 4 * 1024 * MIB;
    let plan = ChunkPlan::new(size, 1);
    assert!(plan.total_chunk_count <= 1000, "{plan:?}");
    assert_eq!(plan.total_chunk_count, size / plan.chunk_size);
    assert!(plan.range(plan.total_chunk_count - 1).end == size);
}
