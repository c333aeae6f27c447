// Package fsutil holds the file-system helpers that several quorumchain
// packages share and that belong to none of them.
//
// WriteFileAtomic replaces a file so that, after a crash at any point, the
// path holds either its old contents or the complete new ones, never a
// mixture or a truncated file: the data goes to a temporary file in the
// same directory, which is fsynced, renamed over the path, and the
// directory is fsynced so the rename itself is durable.
package fsutil
