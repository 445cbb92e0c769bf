package app

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// certRecheck is how often a served certificate's files are looked at for
// a renewal: cheap (two stats), and a renewed certificate is in use within
// a minute, long before the old one expires.
const certRecheck = time.Minute

// certificateFiles serves the key pair in TLS_CERT_FILE and TLS_KEY_FILE
// and reads it again when either file changes, so that a renewal by
// cert-manager or certbot needs no restart. A renewal that cannot be read
// (a half-written file) is logged and the pair in use is kept.
type certificateFiles struct {
	certFile, keyFile string
	recheck           time.Duration
	logger            *slog.Logger

	mu      sync.Mutex
	cert    *tls.Certificate
	stamp   string
	checked time.Time
}

// loadCertificateFiles reads the pair once, so that a wrong path or a key
// that does not match stops web at start-up rather than at its first
// handshake.
func loadCertificateFiles(certFile, keyFile string, recheck time.Duration, logger *slog.Logger) (*certificateFiles, error) {
	c := &certificateFiles{certFile: certFile, keyFile: keyFile, recheck: recheck, logger: logger}
	stamp, err := c.fileStamp()
	if err == nil {
		err = c.load(stamp)
	}
	if err != nil {
		return nil, fmt.Errorf("TLS_CERT_FILE and TLS_KEY_FILE: %w", err)
	}
	return c, nil
}

// fileStamp identifies the files' current versions by size and time of
// change.
func (c *certificateFiles) fileStamp() (string, error) {
	stamp := ""
	for _, name := range []string{c.certFile, c.keyFile} {
		fi, err := os.Stat(name)
		if err != nil {
			return "", err
		}
		stamp += fmt.Sprintf("%d/%d;", fi.Size(), fi.ModTime().UnixNano())
	}
	return stamp, nil
}

func (c *certificateFiles) load(stamp string) error {
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return err
	}
	c.cert, c.stamp = &cert, stamp
	return nil
}

// getCertificate is tls.Config's GetCertificate.
func (c *certificateFiles) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.checked) < c.recheck {
		return c.cert, nil
	}
	c.checked = time.Now()
	stamp, err := c.fileStamp()
	if err == nil && stamp != c.stamp {
		err = c.load(stamp)
		if err == nil {
			c.logger.Info("TLS certificate reloaded", "file", c.certFile)
		}
	}
	if err != nil {
		c.logger.Warn("TLS certificate files unreadable; serving the pair loaded before", "err", err)
	}
	return c.cert, nil
}
