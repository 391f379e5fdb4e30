//go:build linux

package prefault

import "syscall"

// madvPopulateRead is MADV_POPULATE_READ (Linux 5.14): fault the range in, readable.
const madvPopulateRead = 22

func init() { _, _ = populate() }

// populate advises every readable mapping of the executable; it returns how many bytes it
// advised, and the first error. It reads /proc/self/maps with syscall alone (see the package doc):
// the executable's mappings come first there, each line "start-end perms offset dev inode path".
func populate() (advised uintptr, err error) {
	fd, err := syscall.Open("/proc/self/maps", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	var buf [4096]byte // the executable's few lines come first
	n, err := syscall.Read(fd, buf[:])
	_ = syscall.Close(fd)
	if err != nil {
		return 0, err
	}
	var exe string
	for rest := buf[:max(n, 0)]; len(rest) > 0; {
		line := rest
		if i := indexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			rest = nil // a line cut off at the end of the buffer
			break
		}
		lo, hi, perms, path, ok := parseLine(line)
		if !ok || path == "" || (exe != "" && path != exe) {
			break
		}
		exe = path
		if perms[0] != 'r' {
			continue
		}
		// Writable data is mapped too: a page written later is copied then, as it would be
		// without this; one only read costs no fault at all.
		if _, _, e := syscall.Syscall(syscall.SYS_MADVISE, lo, hi-lo, madvPopulateRead); e != 0 {
			return advised, e // EINVAL before Linux 5.14: nothing to do
		}
		advised += hi - lo
	}
	return advised, nil
}

// parseLine reads the address range, permissions and path of one /proc/self/maps line.
func parseLine(line []byte) (lo, hi uintptr, perms []byte, path string, ok bool) {
	i := 0
	hex := func() (v uintptr, ok bool) {
		start := i
		for ; i < len(line); i++ {
			c := line[i]
			switch {
			case c >= '0' && c <= '9':
				v = v<<4 | uintptr(c-'0')
			case c >= 'a' && c <= 'f':
				v = v<<4 | uintptr(c-'a'+10)
			default:
				return v, i > start
			}
		}
		return v, i > start
	}
	if lo, ok = hex(); !ok || i >= len(line) || line[i] != '-' {
		return 0, 0, nil, "", false
	}
	i++
	if hi, ok = hex(); !ok || hi <= lo || i+5 > len(line) || line[i] != ' ' {
		return 0, 0, nil, "", false
	}
	perms = line[i+1 : i+5]
	// The path is the last field; it starts with '/' for a file.
	if j := indexByte(line, '/'); j >= 0 {
		path = string(line[j:])
	}
	return lo, hi, perms, path, true
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}
