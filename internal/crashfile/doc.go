// Package crashfile is an in-memory file for crash tests: a disk behind a
// page cache, whose unsynced changes a crash loses in part or in whole.
//
// A File holds two images. Writes and truncations change the current
// image, which reads see; Sync copies it to the durable image. Crash
// replaces the contents with what a machine crash could leave on the disk,
// chosen by a caller-supplied random source so that a seeded run is
// reproducible:
//
//   - if the current image equals the durable one, exactly that;
//   - otherwise one of: the durable image (every unsynced change lost, a
//     truncation included); a torn write — the longest common prefix of
//     the two images followed by a prefix, of random length, of the rest of
//     the current image; or a torn sector — the same with some of those
//     unsynced bytes replaced by garbage.
//
// Synced data is never lost: the durable image survives every crash up to
// the first byte an unsynced change touched. The model is the one a
// write-ahead log must survive; it does not model a disk that reorders
// writes within a file or that keeps old bytes past an unsynced
// truncation.
//
// A File implements the file interface of engine/wal (Read, Write, Seek,
// Truncate, Sync, Close). It is safe for concurrent use, though a file
// position shared by goroutines makes little sense.
package crashfile
