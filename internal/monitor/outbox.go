package monitor

import (
	"context"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/smtp"
	"net/url"
	"strings"
	"time"

	"grantflow/internal/postgres"
	"grantflow/workflow"
)

// Sender delivers the e-mail outbox over SMTP.
//
// Delivery is at least once, and in practice once. Each e-mail is claimed
// with SELECT … FOR UPDATE SKIP LOCKED and stays locked while it is sent;
// "sent" is committed in that same transaction right after the server's 250
// answer to DATA. So two instances never send the same row, and a sender
// killed before the 250 leaves the row unlocked and unsent (PostgreSQL
// rolls the transaction back when the connection drops): the next round
// sends it — nothing is lost. The one window that can double a message is
// a kill (or a lost database connection) between the server's 250 and the
// commit, a few milliseconds; exactly once is impossible across two systems
// that do not share a transaction. Every copy carries the same Message-ID
// (from the reminder's unique key), which lets receiving systems drop the
// duplicate. Holding a row lock across the SMTP exchange costs one database
// connection per sending instance, bounded by the send timeout.
type Sender struct {
	db      *postgres.DB
	addr    string // host:port
	from    string
	timeout time.Duration
	log     *slog.Logger
}

// NewSender returns a Sender to the server of rawURL (smtp://host:port,
// optionally ?from=address); it returns an EInvalid error for a bad URL.
func NewSender(db *postgres.DB, rawURL string, log *slog.Logger) (*Sender, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "smtp" || u.Hostname() == "" {
		return nil, workflow.Errorf(workflow.EInvalid, "GRANTFLOW_SMTP_URL harus berbentuk smtp://host:port")
	}
	port := u.Port()
	if port == "" {
		port = "25"
	}
	from := u.Query().Get("from")
	if from == "" {
		from = "noreply@grantflow.id"
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Sender{db: db, addr: net.JoinHostPort(u.Hostname(), port), from: from, timeout: 30 * time.Second, log: log}, nil
}

// Backoff is the wait before attempt n+1 after n failed ones: 1, 2, 4 …
// minutes, at most 6 hours.
func Backoff(n int) time.Duration {
	if n > 9 {
		return 6 * time.Hour
	}
	return min(time.Minute<<max(n-1, 0), 6*time.Hour)
}

// SendDue sends every e-mail that is due, one at a time, and returns how
// many it tried; it stops at ctx's end or at a database error.
func (s *Sender) SendDue(ctx context.Context) (int, error) {
	n := 0
	for ctx.Err() == nil {
		found, err := s.db.SendOne(ctx, func(m postgres.Mail) error { return s.send(ctx, m) }, Backoff)
		if err != nil || !found {
			return n, err
		}
		n++
	}
	return n, ctx.Err()
}

// Run sends due e-mails every interval until ctx ends.
func (s *Sender) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := s.SendDue(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("e-mail outbox", "error", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// send delivers one e-mail; ctx's end (shutdown) closes the connection at once.
func (s *Sender) send(ctx context.Context, m postgres.Mail) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.addr)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	defer conn.Close()
	host, _, _ := net.SplitHostPort(s.addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return err
	}
	if err := c.Mail(s.from); err != nil {
		return err
	}
	if err := c.Rcpt(m.To); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(message(s.from, m)); err != nil {
		return err
	}
	if err := w.Close(); err != nil { // the server's 250: from here on it holds the message
		return err
	}
	_ = c.Quit()
	return nil
}

// message builds the RFC 5322 text of m with a Message-ID fixed by the reminder.
func message(from string, m postgres.Mail) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\n", from, m.To, mime.QEncoding.Encode("utf-8", m.Subject))
	fmt.Fprintf(&b, "Message-ID: <%s@grantflow.id>\r\n", strings.ReplaceAll(m.MessageID, ":", "."))
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	for _, line := range strings.Split(m.Body, "\n") { // the DATA writer dot-stuffs
		b.WriteString(strings.TrimRight(line, "\r") + "\r\n")
	}
	return []byte(b.String())
}
