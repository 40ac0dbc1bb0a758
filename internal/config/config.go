// Package config loads grantflow's settings from the environment and reports
// every problem at once.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config is everything the binary reads from the environment.
type Config struct {
	DatabaseURL    string        // DATABASE_URL
	Addr           string        // GRANTFLOW_ADDR
	DataDir        string        // GRANTFLOW_DATA_DIR: local evidence store
	PublicURL      string        // GRANTFLOW_PUBLIC_URL: base of QR verification links
	RequestTimeout time.Duration // GRANTFLOW_REQUEST_TIMEOUT: deadline of every request's database work
	SessionIdle    time.Duration // GRANTFLOW_SESSION_IDLE: a session unused this long expires
	SessionMax     time.Duration // GRANTFLOW_SESSION_MAX: a session expires this long after login
	TrustedProxies []string      // GRANTFLOW_TRUSTED_PROXIES: comma-separated; empty = trust none
	ShutdownDrain  time.Duration // GRANTFLOW_SHUTDOWN_DRAIN: /readyz says 503 this long before the listener closes
	UploadIdle     time.Duration // GRANTFLOW_UPLOAD_IDLE: an upload is cut when no byte arrives this long
	UploadMax      time.Duration // GRANTFLOW_UPLOAD_MAX: an upload is cut when it takes longer than this
	SMTPURL        string        // GRANTFLOW_SMTP_URL: smtp://host:port[?from=addr]; empty = reminders in the app only

	// S3-compatible evidence store; used instead of DataDir when S3Endpoint is set.
	S3Endpoint  string // GRANTFLOW_S3_ENDPOINT (host:port)
	S3Bucket    string // GRANTFLOW_S3_BUCKET
	S3Region    string // GRANTFLOW_S3_REGION
	S3AccessKey string // GRANTFLOW_S3_ACCESS_KEY
	S3SecretKey string // GRANTFLOW_S3_SECRET_KEY (never logged)
	S3UseSSL    bool   // GRANTFLOW_S3_SSL
}

// DefaultDatabaseURL is used when DATABASE_URL is unset.
const DefaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/grantflow?sslmode=disable"

// Load reads the configuration through getenv (os.Getenv in production). It
// returns every invalid setting in one error.
func Load(getenv func(string) string) (Config, error) {
	var errs []error
	str := func(key, def string) string {
		if v := strings.TrimSpace(getenv(key)); v != "" {
			return v
		}
		return def
	}
	dur := func(key string, def time.Duration) time.Duration {
		v := str(key, "")
		if v == "" {
			return def
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("%s: %q is not a positive duration such as 5s or 12h", key, v))
			return def
		}
		return d
	}
	c := Config{
		DatabaseURL:    str("DATABASE_URL", DefaultDatabaseURL),
		Addr:           str("GRANTFLOW_ADDR", "127.0.0.1:8080"),
		DataDir:        str("GRANTFLOW_DATA_DIR", "./data"),
		PublicURL:      strings.TrimRight(str("GRANTFLOW_PUBLIC_URL", ""), "/"),
		RequestTimeout: dur("GRANTFLOW_REQUEST_TIMEOUT", 5*time.Second),
		SessionIdle:    dur("GRANTFLOW_SESSION_IDLE", 2*time.Hour),
		SessionMax:     dur("GRANTFLOW_SESSION_MAX", 12*time.Hour),
		ShutdownDrain:  dur("GRANTFLOW_SHUTDOWN_DRAIN", 2*time.Second),
		UploadIdle:     dur("GRANTFLOW_UPLOAD_IDLE", 60*time.Second),
		UploadMax:      dur("GRANTFLOW_UPLOAD_MAX", 30*time.Minute),
		SMTPURL:        str("GRANTFLOW_SMTP_URL", ""),
		S3Endpoint:     str("GRANTFLOW_S3_ENDPOINT", ""),
		S3Bucket:       str("GRANTFLOW_S3_BUCKET", "grantflow"),
		S3Region:       str("GRANTFLOW_S3_REGION", "us-east-1"),
		S3AccessKey:    str("GRANTFLOW_S3_ACCESS_KEY", ""),
		S3SecretKey:    str("GRANTFLOW_S3_SECRET_KEY", ""),
	}
	if v := str("GRANTFLOW_TRUSTED_PROXIES", ""); v != "" {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				c.TrustedProxies = append(c.TrustedProxies, p)
			}
		}
	}
	if v := str("GRANTFLOW_S3_SSL", ""); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("GRANTFLOW_S3_SSL: %q is not true or false", v))
		}
		c.S3UseSSL = b
	}
	if u, err := url.Parse(c.DatabaseURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
		// The URL may hold a password: never echo it.
		errs = append(errs, errors.New("DATABASE_URL: not a postgres:// URL with a host"))
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("GRANTFLOW_ADDR: %q is not host:port", c.Addr))
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("GRANTFLOW_PUBLIC_URL: %q is not an http(s) URL", c.PublicURL))
		}
	} else {
		c.PublicURL = "http://" + c.Addr
	}
	if c.SMTPURL != "" {
		if u, err := url.Parse(c.SMTPURL); err != nil || u.Scheme != "smtp" || u.Hostname() == "" {
			errs = append(errs, errors.New("GRANTFLOW_SMTP_URL: not an smtp://host:port URL"))
		}
	}
	if c.S3Endpoint != "" && (c.S3AccessKey == "" || c.S3SecretKey == "") {
		errs = append(errs, errors.New("GRANTFLOW_S3_ACCESS_KEY and GRANTFLOW_S3_SECRET_KEY are required with GRANTFLOW_S3_ENDPOINT"))
	}
	if c.SessionIdle > c.SessionMax {
		errs = append(errs, errors.New("GRANTFLOW_SESSION_IDLE must not exceed GRANTFLOW_SESSION_MAX"))
	}
	if c.UploadIdle > c.UploadMax {
		errs = append(errs, errors.New("GRANTFLOW_UPLOAD_IDLE must not exceed GRANTFLOW_UPLOAD_MAX"))
	}
	return c, errors.Join(errs...)
}
