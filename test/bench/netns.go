// Package bench measures t5gw at scale against the same job done by FRR and
// against the floor (the injector's routes straight to the monitor): an
// injector of many worker sessions, a lean monitor that counts the routes it
// receives, and the systems between them, each in network namespaces.
package bench

import (
	"fmt"
	"runtime"

	"github.com/vishvananda/netns"
)

// inNetns runs fn on an OS thread moved into the named network namespace:
// sockets fn creates belong to that namespace for good.
func inNetns(name string, fn func() error) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		return err
	}
	defer orig.Close()
	target, err := netns.GetFromName(name)
	if err != nil {
		return fmt.Errorf("netns %s: %w", name, err)
	}
	defer target.Close()
	if err := netns.Set(target); err != nil {
		return err
	}
	defer netns.Set(orig)
	return fn()
}
