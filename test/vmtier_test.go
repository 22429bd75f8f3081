package test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/t5gw/t5gw/test/lab"
	"github.com/t5gw/t5gw/test/vm"
)

// TestVMTier runs the tests that need VRF devices (build tag realkernel: the
// vrf package's, TestRealKernelVRFDevice and TestRealKernelOverlappingVRFs)
// inside a VM booted with Debian's kernel, and fails with their output when
// they fail there.
func TestVMTier(t *testing.T) {
	lab.Require(t, "qemu-system-x86_64", "cpio", "busybox", "gzip")
	if _, _, err := vm.Kernel(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	// The VM sees the host's files but has its own /tmp: build under /var/tmp.
	bin, err := os.MkdirTemp("/var/tmp", "t5gw-vmbin-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(bin)
	for _, b := range [][]string{
		{"build", "-o", filepath.Join(bin, "t5gwd"), "./cmd/t5gwd"},
		{"test", "-c", "-tags", "realkernel", "-o", filepath.Join(bin, "vrf.test"), "./vrf"},
		{"test", "-c", "-tags", "realkernel", "-o", filepath.Join(bin, "test.test"), "./test"},
	} {
		cmd := exec.Command("go", b...)
		cmd.Dir = repo
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(b, " "), err, out)
		}
	}
	// The tests read their lab files relative to their directory; the clone
	// may sit under /tmp, which the VM cannot see, so stage a copy.
	if out, err := exec.Command("cp", "-r", "workers-lab", filepath.Join(bin, "workers-lab")).CombinedOutput(); err != nil {
		t.Fatalf("staging lab files: %v %s", err, out)
	}
	only := os.Getenv("T5GW_VM_RUN") // a -test.run pattern, to rerun some VM tests
	if only == "" {
		only = "^TestRealKernel"
	}
	script := fmt.Sprintf(`
export PATH=/usr/local/go/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root CI=%q T5GWD=%s/t5gwd
ip link set lo up
modprobe -a vrf veth vxlan bridge dummy inet_diag tcp_diag || exit 90
cd %s && ./vrf.test -test.v -test.count=1 -test.run '%s'; a=$?
./test.test -test.v -test.count=1 -test.timeout 15m -test.run '%s'; b=$?
echo "vrf: $a test: $b"
exit $((a|b))
`, os.Getenv("CI"), bin, bin, only, only)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	start := time.Now()
	out, status, err := vm.Run(ctx, script, 2048)
	t.Logf("VM ran for %s", time.Since(start).Round(time.Second))
	if err != nil || status != 0 {
		t.Fatalf("inside the VM: status %d, %v\n%s", status, err, out)
	}
	for _, want := range []string{"--- PASS: TestRealKernelTenant", "--- PASS: TestRealKernelRoutes",
		"--- PASS: TestRealKernelWatch", "--- PASS: TestRealKernelVRFDevice", "--- PASS: TestRealKernelOverlappingVRFs"} {
		if os.Getenv("T5GW_VM_RUN") == "" && !strings.Contains(out, want) {
			t.Errorf("the VM's output lacks %q:\n%s", want, out)
		}
	}
	if testing.Verbose() {
		t.Logf("VM output:\n%s", out)
	}
}
