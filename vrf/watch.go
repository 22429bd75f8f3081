package vrf

import (
	"context"
	"fmt"

	"github.com/vishvananda/netlink"
)

// Watch reports the tenant's state each time a device changes: the VRF or
// its L3VNI devices appearing, disappearing, or the VTEP address changing.
// It calls changed first with the current state, then on every change, until
// ctx ends.
func (l *Links) Watch(ctx context.Context, name string, vni uint32, changed func(Tenant, error)) error {
	updates := make(chan netlink.LinkUpdate, 64)
	done := make(chan struct{})
	if err := netlink.LinkSubscribeWithOptions(updates, done, netlink.LinkSubscribeOptions{Namespace: l.ns}); err != nil {
		return fmt.Errorf("watch devices: %w", err)
	}
	go func() {
		defer close(done)
		last, lastErr := l.Tenant(name, vni)
		changed(last, lastErr)
		for {
			select {
			case <-ctx.Done():
				return
			case _, ok := <-updates:
				if !ok {
					return
				}
				t, err := l.Tenant(name, vni)
				if same(t, err, last, lastErr) {
					continue
				}
				last, lastErr = t, err
				changed(t, err)
			}
		}
	}()
	return nil
}

func same(a Tenant, aErr error, b Tenant, bErr error) bool {
	if (aErr == nil) != (bErr == nil) {
		return false
	}
	if aErr != nil {
		return aErr.Error() == bErr.Error()
	}
	return a.Device == b.Device && a.L3VNI.VXLAN == b.L3VNI.VXLAN && a.L3VNI.VTEP == b.L3VNI.VTEP &&
		a.L3VNI.Bridge == b.L3VNI.Bridge && a.L3VNI.RouterMAC.String() == b.L3VNI.RouterMAC.String()
}
