// Package rib follows what every worker of a VRF announces, chooses the Type-5
// route each prefix should produce, and reconciles the fabric speaker to hold
// exactly those routes. It is pure logic: the fabric is an interface.
package rib
