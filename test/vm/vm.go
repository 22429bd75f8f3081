// Package vm runs a shell script inside a QEMU virtual machine booted with
// Debian's kernel (which has VRF devices, unlike the machine's own) and the
// host's root filesystem shared read-only over virtio-9p, with tmpfs on /tmp
// and /run. The script's output and exit status come back to the caller.
package vm

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// initModules are loaded in this order so the initramfs can mount the host's
// root over virtio-9p; everything else comes from the host's /lib/modules.
var initModules = []string{"virtio_ring", "virtio", "virtio_pci_modern_dev", "virtio_pci_legacy_dev",
	"virtio_pci", "netfs", "fscache", "9pnet", "9pnet_virtio", "9p"}

const initScript = `#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in %s; do [ -f /lib/modules/$m.ko ] && insmod /lib/modules/$m.ko; done
if ! mount -t 9p -o trans=virtio,version=9p2000.L,ro hostroot /mnt; then echo T5GW-EXIT=98; poweroff -f; fi
mount -t proc proc /mnt/proc; mount -t sysfs sys /mnt/sys; mount -t devtmpfs dev /mnt/dev
mount -t tmpfs tmp /mnt/tmp; mount -t tmpfs run /mnt/run; mkdir -p /mnt/run/netns /mnt/run/frr
mount -t debugfs none /mnt/sys/kernel/debug 2>/dev/null
cmd=$(sed -n 's/.*t5gw.run=\([^ ]*\).*/\1/p' /proc/cmdline)
chroot /mnt /bin/sh -c "$(echo $cmd | base64 -d)"
echo T5GW-EXIT=$?
poweroff -f
`

// Kernel returns the newest Debian kernel in /boot and its module directory.
func Kernel() (kernel, modules string, err error) {
	ks, _ := filepath.Glob("/boot/vmlinuz-*")
	sort.Strings(ks)
	for i := len(ks) - 1; i >= 0; i-- {
		ver := strings.TrimPrefix(filepath.Base(ks[i]), "vmlinuz-")
		if _, err := os.Stat(filepath.Join("/lib/modules", ver, "kernel/drivers/net/vrf.ko")); err == nil {
			return ks[i], filepath.Join("/lib/modules", ver), nil
		}
	}
	return "", "", errors.New("no kernel in /boot with a vrf module (apt-get install linux-image-amd64)")
}

// initramfs writes a busybox initramfs that mounts the host's root and runs
// the script given on the kernel command line.
func initramfs(dir, modules string) (string, error) {
	root := filepath.Join(dir, "initramfs")
	for _, d := range []string{"bin", "lib/modules", "dev", "proc", "sys", "mnt"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return "", err
		}
	}
	if out, err := exec.Command("cp", "/bin/busybox", filepath.Join(root, "bin")).CombinedOutput(); err != nil {
		return "", fmt.Errorf("busybox (apt-get install busybox-static): %v %s", err, out)
	}
	for _, m := range initModules {
		found, _ := filepath.Glob(filepath.Join(modules, "kernel", "*", "*", m+".ko"))
		more, _ := filepath.Glob(filepath.Join(modules, "kernel", "*", m+".ko"))
		found = append(found, more...)
		if len(found) == 0 {
			continue // built into this kernel
		}
		if out, err := exec.Command("cp", found[0], filepath.Join(root, "lib/modules")).CombinedOutput(); err != nil {
			return "", fmt.Errorf("%s: %v %s", m, err, out)
		}
	}
	init := fmt.Sprintf(initScript, strings.Join(initModules, " "))
	if err := os.WriteFile(filepath.Join(root, "init"), []byte(init), 0o755); err != nil {
		return "", err
	}
	out := filepath.Join(dir, "initrd.gz")
	cmd := exec.Command("sh", "-c", "find . | cpio -o -H newc --quiet | gzip -1 > "+out)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("cpio: %v %s", err, b)
	}
	return out, nil
}

var exitLine = regexp.MustCompile(`T5GW-EXIT=(\d+)`)

// Run boots the VM, runs script as root inside it (in /bin/sh, with the host's
// files read-only), and returns what it printed and its exit status. Files the
// script must reach go anywhere on the host but /tmp and /run, which the VM
// has its own of.
func Run(ctx context.Context, script string, memMB int) (output string, status int, err error) {
	kernel, modules, err := Kernel()
	if err != nil {
		return "", -1, err
	}
	// Not in /tmp: the VM mounts its own tmpfs there, and must read the script.
	dir, err := os.MkdirTemp("/var/tmp", "t5gw-vm-")
	if err != nil {
		return "", -1, err
	}
	defer os.RemoveAll(dir)
	initrd, err := initramfs(dir, modules)
	if err != nil {
		return "", -1, err
	}
	path := filepath.Join(dir, "run.sh")
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		return "", -1, err
	}
	run := base64.StdEncoding.EncodeToString([]byte("sh " + path))
	cmd := exec.CommandContext(ctx, "qemu-system-x86_64", "-accel", "tcg", "-m", strconv.Itoa(memMB),
		"-smp", "2", "-nographic", "-no-reboot", "-kernel", kernel, "-initrd", initrd,
		"-append", "console=ttyS0 quiet panic=-1 t5gw.run="+run,
		"-fsdev", "local,id=r,path=/,security_model=none,readonly=on,multidevs=remap",
		"-device", "virtio-9p-pci,fsdev=r,mount_tag=hostroot")
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	cmd.WaitDelay = 5 * time.Second
	runErr := cmd.Run()
	output = buf.String()
	m := exitLine.FindAllStringSubmatch(output, -1)
	if len(m) == 0 {
		return output, -1, fmt.Errorf("the VM ended without an exit status (qemu: %v)", runErr)
	}
	status, _ = strconv.Atoi(m[len(m)-1][1])
	return output, status, nil
}
