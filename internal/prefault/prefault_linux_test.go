//go:build linux

package prefault

import (
	"errors"
	"os"
	"syscall"
	"testing"
)

func TestParseLine(t *testing.T) {
	lo, hi, perms, path, ok := parseLine([]byte("00400000-0083a000 r-xp 00000000 fd:01 1234                       /usr/local/bin/handler"))
	if !ok || lo != 0x400000 || hi != 0x83a000 || string(perms) != "r-xp" || path != "/usr/local/bin/handler" {
		t.Errorf("got %x %x %q %q %v", lo, hi, perms, path, ok)
	}
	if _, _, _, path, ok := parseLine([]byte("7ffd1000-7ffd3000 rw-p 00000000 00:00 0          [stack]")); !ok || path != "" {
		t.Errorf("anonymous mapping: path %q ok %v", path, ok)
	}
	for _, bad := range []string{"", "zz-10 r-xp", "1000-0800 r-xp 0 0 0 /x", "1000-2000"} {
		if _, _, _, _, ok := parseLine([]byte(bad)); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}

// The test binary's own code is advised: at least its text, which is larger than a megabyte.
func TestPopulateAdvisesTheExecutable(t *testing.T) {
	advised, err := populate()
	if errors.Is(err, syscall.EINVAL) {
		t.Skip("this kernel has no MADV_POPULATE_READ (Linux 5.14+)")
	}
	if err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(exe)
	if err != nil {
		t.Fatal(err)
	}
	if advised < 1<<20 || int64(advised) > st.Size()+1<<20 {
		t.Errorf("advised %d bytes of a %d-byte executable", advised, st.Size())
	}
}
