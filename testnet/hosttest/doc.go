// Package hosttest tests testnets beyond one loopback address, with real
// kernels and containers: a network-namespace testnet whose links are cut
// at the kernel (start --netns, cut, restore, stop), and a compose testnet
// of the FROM scratch image (make image, testnet compose).
//
// They need root and the ip command (namespaces), and a running docker
// daemon with docker-compose or `docker compose` (compose). Without them
// the tests skip, saying why, except under CI=true, where they fail: CI
// (.ci/run) installs and starts what they need. -short skips them. The
// static quorumchain binary is built once per test run (make static) and
// serves both.
//
// The package holds tests only; it is its own package so that it runs in
// parallel with the others.
package hosttest
