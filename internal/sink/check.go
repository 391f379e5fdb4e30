package sink

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Check makes sure Publish can write, before anything is fetched: the file is opened for
// appending (a file it had to create for that is removed again). A missing folder is created only when
// createFolder is true, for the default path the user did not choose; a folder missing from a path
// the user gave is more likely a typo than a wish, and is an error. Check returns the folder it
// created, if any, for the caller to log.
func (f *File) Check(createFolder bool) (created string, err error) {
	if f.w != nil {
		return "", nil
	}
	dir := filepath.Dir(f.path)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if !createFolder {
			return "", fmt.Errorf("OPENSKY_FILE=%s: the folder %s does not exist; create it (mkdir -p %s) or give a path in a folder that does", f.path, dir, dir)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", fmt.Errorf("OPENSKY_FILE=%s: creating its folder: %w", f.path, err)
		}
		created = dir
	}
	_, statErr := os.Stat(f.path)
	fh, err := os.OpenFile(f.path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return created, fmt.Errorf("OPENSKY_FILE=%s cannot be written (%w); give a file path you may write to, or - for standard output", f.path, err)
	}
	if err := fh.Close(); err != nil {
		return created, fmt.Errorf("OPENSKY_FILE=%s: %w", f.path, err)
	}
	if errors.Is(statErr, fs.ErrNotExist) {
		// Leave no empty file behind: until a tick publishes, there is nothing to read.
		_ = os.Remove(f.path)
	}
	return created, nil
}
