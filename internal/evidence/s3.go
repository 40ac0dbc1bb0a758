package evidence

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"grantflow/workflow"
)

// S3Config configures an S3 store.
type S3Config struct {
	Endpoint  string // host[:port], no scheme
	Region    string
	Bucket    string
	AccessKey string
	SecretKey string
	UseSSL    bool
	Prefix    string // prepended to every key; a trailing "/" is added when missing
	TempDir   string // where uploads are staged; os.TempDir() when empty
}

// S3 is a Store in an S3-compatible bucket; objects are named Prefix+key.
type S3 struct {
	c      *minio.Client
	bucket string
	prefix string
	tmp    string
}

var _ Store = (*S3)(nil)

// NewS3 connects to the bucket in cfg, creating it when missing; it returns
// an error when the configuration is incomplete or the server cannot be
// reached or refuses.
func NewS3(ctx context.Context, cfg S3Config) (*S3, error) {
	if cfg.Endpoint == "" || cfg.Bucket == "" {
		return nil, workflow.Errorf(workflow.EInternal, "konfigurasi S3 tidak lengkap: endpoint dan bucket wajib diisi")
	}
	c, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: cfg.UseSSL,
		Region: cfg.Region,
	})
	if err != nil {
		return nil, workflow.Wrap(workflow.EInternal, err, "konfigurasi S3 tidak sah")
	}
	s := &S3{c: c, bucket: cfg.Bucket, prefix: cfg.Prefix, tmp: cfg.TempDir}
	if s.prefix != "" && !strings.HasSuffix(s.prefix, "/") {
		s.prefix += "/"
	}
	if s.tmp == "" {
		s.tmp = os.TempDir()
	}
	ok, err := c.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, workflow.Wrap(workflow.EUnavailable, err, "penyimpanan S3 tidak dapat dihubungi")
	}
	if !ok {
		err := c.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: cfg.Region})
		// Another instance starting at the same time may have won the race.
		if err != nil && s3Code(err) != minio.BucketAlreadyOwnedByYou && s3Code(err) != minio.BucketAlreadyExists {
			return nil, workflow.Wrap(workflow.EInternal, err, "gagal membuat bucket S3")
		}
	}
	return s, nil
}

func (s *S3) name(key string) string { return s.prefix + key }

// TempDir returns the configured staging directory or os.TempDir().
func (s *S3) TempDir() string { return s.tmp }

// Put uploads f from its start with its known size (again when the key is
// already stored, which renews its modification time); see Store.Put. It returns EInvalid for a malformed key and EInternal
// when the upload fails.
func (s *S3) Put(ctx context.Context, key string, f *os.File, size int64, mime string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	// Uploaded even when the key exists: the new LastModified keeps the
	// garbage collector's grace over the row about to point to it.
	// A SectionReader reads from offset 0 whatever f's position, and can be
	// rewound by the client when it retries.
	_, err := s.c.PutObject(ctx, s.bucket, s.name(key), io.NewSectionReader(f, 0, size), size, minio.PutObjectOptions{
		ContentType:    mime,
		SendContentMd5: true, // the server checks the bytes it received
		// Sign an unsigned payload instead of streaming aws-chunked: some
		// S3-compatible servers (gofakes3 among them) corrupt chunked uploads,
		// and Content-MD5 already guards the body.
		DisableContentSha256: true,
	})
	if err != nil {
		return workflow.Wrap(workflow.EInternal, err, "gagal mengunggah berkas ke S3")
	}
	return nil
}

// Open returns the object (a *minio.Object, which can also be seeked); it
// returns ENotFound when key is not stored, EInvalid for a malformed key and
// EInternal when the server fails.
func (s *S3) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	obj, err := s.c.GetObject(ctx, s.bucket, s.name(key), minio.GetObjectOptions{})
	if err == nil {
		// GetObject is lazy: Stat makes the request, so a missing key is
		// reported here rather than at the first Read.
		_, err = obj.Stat()
	}
	if err != nil {
		if obj != nil {
			obj.Close()
		}
		if s3Code(err) == minio.NoSuchKey {
			return nil, workflow.Errorf(workflow.ENotFound, "Berkas tidak ditemukan.")
		}
		return nil, workflow.Wrap(workflow.EInternal, err, "gagal membuka berkas di S3")
	}
	return obj, nil
}

// Exists reports whether key is stored; it returns EInvalid for a malformed
// key and EInternal when the server fails.
func (s *S3) Exists(ctx context.Context, key string) (bool, error) {
	if err := checkKey(key); err != nil {
		return false, err
	}
	_, err := s.c.StatObject(ctx, s.bucket, s.name(key), minio.StatObjectOptions{})
	if s3Code(err) == minio.NoSuchKey {
		return false, nil
	}
	if err != nil {
		return false, workflow.Wrap(workflow.EInternal, err, "gagal memeriksa berkas di S3")
	}
	return true, nil
}

// Delete removes key; S3 does not report a missing key. It returns EInvalid
// for a malformed key and EInternal when the server fails.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := s.c.RemoveObject(ctx, s.bucket, s.name(key), minio.RemoveObjectOptions{}); err != nil {
		return workflow.Wrap(workflow.EInternal, err, "gagal menghapus berkas di S3")
	}
	return nil
}

// List calls fn for every object under Prefix whose name is a key; it returns
// fn's first error unchanged and EInternal when the listing fails.
func (s *S3) List(ctx context.Context, fn func(key string, modTime time.Time) error) error {
	// Cancelling stops minio's listing goroutine when fn ends the walk early.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for o := range s.c.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix, Recursive: true}) {
		if o.Err != nil {
			return workflow.Wrap(workflow.EInternal, o.Err, "gagal membaca daftar berkas di S3")
		}
		key, ok := strings.CutPrefix(o.Key, s.prefix)
		if !ok || !validKey(key) {
			continue
		}
		if err := fn(key, o.LastModified); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// s3Code returns the S3 error code of err, or "".
func s3Code(err error) string {
	var e minio.ErrorResponse
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
