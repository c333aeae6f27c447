// Package fuzztest holds the checks that quorumchain's native fuzz targets
// share: that a decoder's allocations stay within a fixed multiple of its
// input, and that its errors are of the kinds it documents.
//
// The checks are for tests only. AllocatedBytes stops the world to read the
// heap counters, so a fuzz target pays a few microseconds per execution for
// it; that keeps every target well above the thousand executions per second
// `make fuzz` demands while still catching a decoder that turns a few bytes
// into megabytes.
package fuzztest
