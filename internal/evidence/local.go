package evidence

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"grantflow/workflow"
)

// Local is a Store in a directory of the local filesystem: blobs live at
// <dir>/blobs/ab/cd/<sha256> and temporary files in <dir>/tmp, on the same
// filesystem so that Put is a rename.
type Local struct {
	blobs string
	tmp   string
}

var _ Store = (*Local)(nil)

// NewLocal returns a Local store rooted at dir, creating its directories
// (0750) as needed; it returns an error when dir cannot be created.
func NewLocal(dir string) (*Local, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, workflow.Wrap(workflow.EInternal, err, "direktori berkas tidak sah")
	}
	l := &Local{blobs: filepath.Join(dir, "blobs"), tmp: filepath.Join(dir, "tmp")}
	for _, d := range []string{l.blobs, l.tmp} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return nil, workflow.Wrap(workflow.EInternal, err, "gagal membuat direktori berkas")
		}
	}
	return l, nil
}

// path fans blobs out over two directory levels so that no directory grows
// past a few thousand entries.
func (l *Local) path(key string) string {
	return filepath.Join(l.blobs, key[0:2], key[2:4], key)
}

// TempDir returns <dir>/tmp.
func (l *Local) TempDir() string { return l.tmp }

// Put renames f into place (0640) and fsyncs the directory; see Store.Put.
// A blob already present with the same size is kept. When f lies on another
// filesystem it is copied into <dir>/tmp first, so the rename stays atomic.
// It returns EInvalid for a malformed key and EInternal when the file cannot
// be moved or synced.
func (l *Local) Put(ctx context.Context, key string, f *os.File, size int64, mime string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	dst := l.path(key)
	if fi, err := os.Stat(dst); err == nil && fi.Mode().IsRegular() && fi.Size() == size {
		// Already stored: make it young again, so that the garbage
		// collector's grace covers the row about to point to it.
		now := time.Now()
		if err := os.Chtimes(dst, now, now); err != nil {
			return workflow.Wrap(workflow.EInternal, err, "gagal menyimpan berkas")
		}
		return nil
	}
	if err := mkdirSync(filepath.Dir(filepath.Dir(dst))); err != nil {
		return workflow.Wrap(workflow.EInternal, err, "gagal menyimpan berkas")
	}
	if err := mkdirSync(filepath.Dir(dst)); err != nil {
		return workflow.Wrap(workflow.EInternal, err, "gagal menyimpan berkas")
	}
	if err := f.Chmod(0o640); err != nil {
		return workflow.Wrap(workflow.EInternal, err, "gagal menyimpan berkas")
	}
	err := os.Rename(f.Name(), dst)
	if errors.Is(err, syscall.EXDEV) {
		err = l.copyInto(dst, f, size)
	}
	if err != nil {
		return workflow.Wrap(workflow.EInternal, err, "gagal menyimpan berkas")
	}
	if err := syncDir(filepath.Dir(dst)); err != nil {
		return workflow.Wrap(workflow.EInternal, err, "gagal menyimpan berkas")
	}
	return nil
}

// copyInto copies f into a temporary file of this store, fsyncs it and
// renames it to dst.
func (l *Local) copyInto(dst string, f *os.File, size int64) error {
	t, err := os.CreateTemp(l.tmp, "copy-*")
	if err != nil {
		return err
	}
	defer discard(t)
	if _, err := io.Copy(t, io.NewSectionReader(f, 0, size)); err != nil {
		return err
	}
	if err := t.Chmod(0o640); err != nil {
		return err
	}
	if err := t.Sync(); err != nil {
		return err
	}
	return os.Rename(t.Name(), dst)
}

// Open returns the blob as an *os.File (so it can also be seeked); it returns
// ENotFound when key is not stored, EInvalid for a malformed key and
// EInternal when the file cannot be opened.
func (l *Local) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	f, err := os.Open(l.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, workflow.Errorf(workflow.ENotFound, "Berkas tidak ditemukan.")
	}
	if err != nil {
		return nil, workflow.Wrap(workflow.EInternal, err, "gagal membuka berkas")
	}
	return f, nil
}

// Exists reports whether key is stored; it returns EInvalid for a malformed
// key and EInternal when the file cannot be examined.
func (l *Local) Exists(ctx context.Context, key string) (bool, error) {
	if err := checkKey(key); err != nil {
		return false, err
	}
	_, err := os.Stat(l.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, workflow.Wrap(workflow.EInternal, err, "gagal memeriksa berkas")
	}
	return true, nil
}

// Delete removes key; a missing key is not an error. It returns EInvalid for
// a malformed key and EInternal when the file cannot be removed.
func (l *Local) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	err := os.Remove(l.path(key))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return workflow.Wrap(workflow.EInternal, err, "gagal menghapus berkas")
	}
	return nil
}

// List calls fn for every blob; files that are not blobs in their right place
// are skipped. It returns fn's first error unchanged, ctx's error when ctx
// ends and EInternal when the directory cannot be read.
func (l *Local) List(ctx context.Context, fn func(key string, modTime time.Time) error) error {
	return filepath.WalkDir(l.blobs, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return workflow.Wrap(workflow.EInternal, err, "gagal membaca daftar berkas")
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		key := d.Name()
		if !d.Type().IsRegular() || !validKey(key) || path != l.path(key) {
			return nil
		}
		fi, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil // deleted while listing
		}
		if err != nil {
			return workflow.Wrap(workflow.EInternal, err, "gagal membaca daftar berkas")
		}
		return fn(key, fi.ModTime())
	})
}

// mkdirSync creates dir (0750) if missing and then fsyncs its parent, so that
// the new entry survives a crash along with the blob renamed into it.
func mkdirSync(dir string) error {
	err := os.Mkdir(dir, 0o750)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return syncDir(filepath.Dir(dir))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
