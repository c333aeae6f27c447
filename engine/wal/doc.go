// Package wal is the consensus write-ahead log (data/cs.wal): every input
// the node feeds to its consensus Machine at the current height, so that a
// node killed at any moment restarts into the same height, round and locks.
// A *Log satisfies engine.Log.
//
// The driver appends each input the Machine took (a peer's proposal or
// vote it accepted, any of the driver's own inputs it did not reject) right
// after stepping it and before carrying out its actions, the height's
// NewHeight included (its clock reading is replayed), and syncs the log
// before every vote or proposal is signed, so every input that led to a
// signature is durable by the time the signature exists (the signer fsyncs
// its own state before releasing any signature, so nothing is ever signed
// twice). After a height is committed to the store its records are dropped
// (Reset); records of the next height (votes and proposals that arrived
// early) are kept.
//
// Record format: uint32 big-endian payload length, uint32 CRC-32C
// (Castagnoli) of the payload, payload = RLP [height, kind, body]. A torn
// or corrupt record (a crash mid-write) ends the log: reading stops there
// and the file is truncated to the last good record, so later appends
// follow the good records.
//
// A Log runs over a File, the few methods of *os.File it uses: Open opens
// one on disk, New takes any implementation, such as the simulated disk of
// internal/crashfile that tears unsynced writes in a crash.
package wal
