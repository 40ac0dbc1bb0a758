package monitor_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/mail"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"grantflow/internal/grants"
	"grantflow/internal/monitor"
	"grantflow/internal/postgres"
	"grantflow/internal/postgres/pgtest"
	"grantflow/workflow"
)

// mailbox is a real SMTP server (go-smtp) that keeps what it accepted. While
// holding, every RCPT waits until release: a sender is then mid-send.
type mailbox struct {
	addr    string
	mu      sync.Mutex
	got     []received
	holding atomic.Bool
	refuse  atomic.Bool
	entered chan struct{}
	release chan struct{}
}

type received struct{ to, messageID, subject, body string }

func newMailbox(t *testing.T) *mailbox {
	mb := &mailbox{entered: make(chan struct{}, 16), release: make(chan struct{})}
	s := smtp.NewServer(mb)
	s.Domain = "localhost"
	s.ReadTimeout, s.WriteTimeout = 30*time.Second, 30*time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mb.addr = l.Addr().String()
	go s.Serve(l)
	t.Cleanup(func() { s.Close() })
	return mb
}

func (mb *mailbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{mb: mb}, nil }

func (mb *mailbox) messages() []received {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	return append([]received(nil), mb.got...)
}

type session struct {
	mb *mailbox
	to string
}

func (s *session) Reset()                                    {}
func (s *session) Logout() error                             { return nil }
func (s *session) Mail(string, *smtp.MailOptions) error      { return nil }
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error { return s.rcpt(to) }

func (s *session) rcpt(to string) error {
	if s.mb.refuse.Load() {
		return &smtp.SMTPError{Code: 451, Message: "coba lagi nanti"}
	}
	if s.mb.holding.Load() {
		s.mb.entered <- struct{}{}
		<-s.mb.release
	}
	s.to = to
	return nil
}

func (s *session) Data(r io.Reader) error {
	m, err := mail.ReadMessage(bufio.NewReader(r))
	if err != nil {
		return err
	}
	body, err := io.ReadAll(m.Body)
	if err != nil {
		return err
	}
	s.mb.mu.Lock()
	defer s.mb.mu.Unlock()
	s.mb.got = append(s.mb.got, received{to: s.to, messageID: m.Header.Get("Message-ID"), subject: m.Header.Get("Subject"), body: string(body)})
	return nil
}

// TestSenderChild is the sender process that TestRemindersExactlyOnce kills
// with SIGKILL mid-send; it does nothing in a normal run.
func TestSenderChild(t *testing.T) {
	dsn, smtpURL := os.Getenv("GRANTFLOW_TEST_SENDER_DB"), os.Getenv("GRANTFLOW_TEST_SENDER_SMTP")
	if dsn == "" {
		t.Skip("helper process of TestRemindersExactlyOnce")
	}
	db, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	s, err := monitor.NewSender(db, smtpURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Run(context.Background(), time.Second) // until killed
}

// TestRemindersExactlyOnce: two instances scan at once and queue each
// reminder's e-mail once; a sender process killed with SIGKILL in the middle
// of the SMTP exchange loses nothing; two senders then deliver each e-mail
// exactly once to a real SMTP server, and a failed attempt is retried later.
func TestRemindersExactlyOnce(t *testing.T) {
	t.Parallel()
	f := newFix(t, monitor.Options{Mail: true})
	E := endOn(f.today, 70)
	p := f.program(E)
	g := f.funded(p, bandung)
	scoped := f.user(grants.NewUser{Roles: []workflow.Role{workflow.RoleVerifier}, Province: "Jawa Barat", Regency: "Kota Bandung"})

	other, err := postgres.Open(context.Background(), pgtest.URL(f.dbName))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	second := monitor.New(other, monitor.Options{Now: f.now, Mail: true})
	for _, day := range []workflow.Date{E.AddDays(80), E.AddDays(95)} {
		var wg sync.WaitGroup
		for _, svc := range []*monitor.Service{f.mon, second, f.mon, second} {
			wg.Go(func() {
				if _, err := svc.Scan(ctxOf(t), day); err != nil {
					t.Errorf("scan: %v", err)
				}
			})
		}
		wg.Wait()
	}
	// LPJ overdue to chair and treasurer, at risk to the chair, dormant to the regency's verifier.
	const want = 4
	if n, m := f.count(`SELECT count(*) FROM notifications`), f.count(`SELECT count(*) FROM email_outbox`); n != want || m != want {
		t.Fatalf("%d notifications and %d e-mails queued, want %d each", n, m, want)
	}

	mb := newMailbox(t)
	smtpURL := "smtp://" + mb.addr + "?from=pengingat@grantflow.id"
	mb.holding.Store(true)
	child := exec.Command(os.Args[0], "-test.run=^TestSenderChild$", "-test.count=1")
	child.Env = append(os.Environ(), "GRANTFLOW_TEST_SENDER_DB="+pgtest.URL(f.dbName), "GRANTFLOW_TEST_SENDER_SMTP="+smtpURL)
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-mb.entered:
	case <-time.After(60 * time.Second):
		_ = child.Process.Kill()
		t.Fatal("the sender process never reached the SMTP server")
	}
	if err := child.Process.Kill(); err != nil { // SIGKILL mid-send
		t.Fatal(err)
	}
	_ = child.Wait()
	// PostgreSQL rolls the dead sender's transaction back once it sees the
	// connection gone: the claimed e-mail is unsent and unlocked again.
	deadline := time.Now().Add(20 * time.Second)
	for f.count(`SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND state LIKE 'idle in transaction%'`, f.dbName) > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the killed sender's transaction stays open")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if sent, waiting, err := f.db.OutboxCounts(ctxOf(t)); err != nil || sent != 0 || waiting != want {
		t.Fatalf("after the kill: %d sent, %d waiting (%v); want 0 and %d", sent, waiting, err, want)
	}
	if n := len(mb.messages()); n != 0 {
		t.Fatalf("the server accepted %d messages from the killed sender", n)
	}
	mb.holding.Store(false)
	close(mb.release)

	// Two instances send at once.
	s1, err := monitor.NewSender(f.db, smtpURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := monitor.NewSender(other, smtpURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(60 * time.Second); ; {
		var wg sync.WaitGroup
		for _, s := range []*monitor.Sender{s1, s2} {
			wg.Go(func() {
				if _, err := s.SendDue(ctxOf(t)); err != nil {
					t.Errorf("SendDue: %v", err)
				}
			})
		}
		wg.Wait()
		if _, waiting, _ := f.db.OutboxCounts(ctxOf(t)); waiting == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the outbox never emptied")
		}
	}
	if n, err := s1.SendDue(ctxOf(t)); err != nil || n != 0 {
		t.Fatalf("a further round tried %d e-mails (%v)", n, err)
	}
	got := mb.messages()
	ids := map[string]bool{}
	to := map[string]int{}
	for _, m := range got {
		ids[m.messageID] = true
		to[m.to]++
		if m.body == "" || m.subject == "" {
			t.Fatalf("empty message %+v", m)
		}
	}
	if len(got) != want || len(ids) != want {
		t.Fatalf("the server got %d messages with %d distinct Message-IDs, want %d each: %+v", len(got), len(ids), want, got)
	}
	email := func(a workflow.Actor) string {
		var e string
		_ = f.db.SQL().QueryRow(`SELECT email FROM users WHERE id = $1`, a.UserID).Scan(&e)
		return e
	}
	if to[email(g.chair)] != 2 || to[email(g.treasurer)] != 1 || to[email(scoped)] != 1 {
		t.Fatalf("recipients %v", to)
	}

	// A refused attempt is counted and retried after the backoff, not at once.
	f.scan(p.ReportDueOn.AddDays(-14)) // a new reminder: LPJ due in 14 days, to chair and treasurer
	mb.refuse.Store(true)
	if n, err := s1.SendDue(ctxOf(t)); err != nil || n != 2 {
		t.Fatalf("refused round tried %d (%v), want 2", n, err)
	}
	if n := f.count(`SELECT count(*) FROM email_outbox WHERE sent_at IS NULL AND attempts = 1 AND last_error <> ''
		AND next_attempt_at > now() + interval '50 seconds'`); n != 2 {
		t.Fatalf("%d e-mails wait for their retry, want 2", n)
	}
	mb.refuse.Store(false)
	if n, _ := s1.SendDue(ctxOf(t)); n != 0 {
		t.Fatalf("retried %d e-mails before their backoff ended", n)
	}
	if monitor.Backoff(1) != time.Minute || monitor.Backoff(3) != 4*time.Minute || monitor.Backoff(50) != 6*time.Hour {
		t.Fatal("backoff is not 1, 2, 4 … minutes up to 6 hours")
	}
}
