// Package test holds t5gw's integration tests: t5gwd between real workers
// (BIRD, FRR, gobgpd) and a real FRR EVPN peer, each router in its own network
// namespace. They need root and the Debian packages .ci/install installs; with
// CI=true a missing tool fails the test instead of skipping it.
package test
