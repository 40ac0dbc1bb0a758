package web

import (
	"bufio"
	"bytes"
	"context"
	crand "crypto/rand"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"testing"
	"time"

	"grantflow/internal/evidence"
	"grantflow/internal/grants"
	"grantflow/internal/postgres/pgtest"
	"grantflow/workflow"
)

// Deadlines of the slow-link tests, scaled down from production's 60 s
// whole-request ReadTimeout (which used to cut uploads) and 60 s idle time
// so that the suite stays short: every other request must arrive whole in
// 2 s, an upload may fall silent for at most 1 s and may last at most 12 s.
const (
	slowReadTimeout = 2 * time.Second
	slowIdle        = 1 * time.Second
	slowMax         = 12 * time.Second
)

// slowJPEG is a real photo-sized JPEG of at least 1.5 MB (noise does not
// compress) that decodes whole.
func slowJPEG(t *testing.T) []byte {
	t.Helper()
	for side := 900; ; side += 100 {
		img := image.NewYCbCr(image.Rect(0, 0, side, side), image.YCbCrSubsampleRatio444)
		for _, p := range [][]byte{img.Y, img.Cb, img.Cr} {
			_, _ = crand.Read(p)
		}
		var b bytes.Buffer
		if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
			t.Fatal(err)
		}
		if b.Len() >= 1_500_000 {
			return b.Bytes()
		}
	}
}

// slowUpload is one expense upload over a raw connection, its body sent in
// chunks with a pause between them.
type slowUpload struct {
	head, body []byte
}

func newSlowUpload(t *testing.T, addr, token string, grantID, lineID int64, receipt []byte) slowUpload {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, f := range [][2]string{{"spent_on", "2026-03-09"}, {"budget_line_id", fmt.Sprint(lineID)}, {"vendor", "Warung Bu Siti"},
		{"description", "Konsumsi In-1"}, {"amount", "100.000"}, {"tax_ppn", "0"}, {"tax_pph", "0"}} {
		if err := mw.WriteField(f[0], f[1]); err != nil {
			t.Fatal(err)
		}
	}
	fw, err := mw.CreateFormFile("receipt", "nota.jpg")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(receipt)
	mw.Close()
	head := fmt.Sprintf("POST /api/v1/grants/%d/expenses HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: %s\r\nContent-Length: %d\r\n\r\n", grantID, addr, token, mw.FormDataContentType(), body.Len())
	return slowUpload{head: []byte(head), body: body.Bytes()}
}

// send writes the request, the body in chunks of size every pause, stops
// after stopAfter bytes of body when it is > 0 (a stalled client), and
// returns the answer's status (0 when the server cut the connection without
// one) and how long the whole exchange took.
func (u slowUpload) send(t *testing.T, addr string, chunk int, pause time.Duration, stopAfter int) (int, time.Duration) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	if _, err := conn.Write(u.head); err != nil {
		t.Fatal(err)
	}
	body := u.body
	if stopAfter > 0 {
		body = body[:stopAfter]
	}
	for len(body) > 0 {
		n := min(chunk, len(body))
		if _, err := conn.Write(body[:n]); err != nil {
			break // the server hung up on us; it may have answered first
		}
		body = body[n:]
		time.Sleep(pause)
	}
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second)) // the test's own bound, far above the server's
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0, time.Since(start)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	t.Logf("answer %d after %s: %.300s", resp.StatusCode, time.Since(start), b)
	return resp.StatusCode, time.Since(start)
}

// A receipt that keeps arriving is never cut, however long it takes; one
// that stalls is cut after the idle time, one that goes past the ceiling at
// the ceiling, and other requests keep their short whole-request deadline.
//
// Scaled from the case (1.5 MB at 20 KB/s, over a minute, against a
// 60 s ReadTimeout): the same 1.5 MB JPEG trickles for about twice the 2 s
// ReadTimeout, in pieces a tenth of the idle time apart.
func TestUploadSlowLink(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	o := Options{ReadTimeout: slowReadTimeout, UploadIdle: slowIdle, UploadMax: slowMax}
	h := newHarnessOn(t, db, o)
	st, err := evidence.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	// The harness's service stores no files; this one does, on the same database.
	h.svc = grants.New(db, grants.Options{Now: func() time.Time { return fixedNow }, Store: st})
	h.srv = New(h.svc, o)
	ctx := context.Background()
	v := h.grantIn(t, h.prog, h.groupA, workflow.Approved)
	if _, err := h.svc.Disburse(ctx, h.actor("finance"), v.ID, grants.DisbursementInput{Tranche: 1, Amount: v.AmountApproved * 70 / 100,
		TransferredOn: workflow.MustDate("2026-03-05"), Reference: "TRF-LAMBAT"}); err != nil {
		t.Fatalf("Disburse: %v", err)
	}
	full, err := h.svc.Grant(ctx, grants.System, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- h.srv.Serve(ln) }()
	t.Cleanup(func() {
		if err := h.srv.App().ShutdownWithTimeout(5 * time.Second); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		<-done
	})
	addr := ln.Addr().String()
	receipt := slowJPEG(t)
	up := newSlowUpload(t, addr, h.token("treasurerA"), v.ID, full.Budget[0].ID, receipt)
	expenses := func() int {
		t.Helper()
		es, err := h.svc.Expenses(ctx, grants.System, v.ID)
		if err != nil {
			t.Fatal(err)
		}
		return len(es)
	}

	// 40 pieces 100 ms apart: about 4 s in all, twice the ReadTimeout.
	chunk := len(up.body)/40 + 1
	status, took := up.send(t, addr, chunk, 100*time.Millisecond, 0)
	if status != http.StatusCreated || took < 2*slowReadTimeout-500*time.Millisecond {
		t.Fatalf("steady trickle of %d bytes: status %d after %s, want 201 after more than the %s ReadTimeout", len(up.body), status, took, slowReadTimeout)
	}
	if n := expenses(); n != 1 {
		t.Fatalf("%d expenses after the trickle, want 1", n)
	}

	// Half the body, then silence: cut after the idle time, nothing recorded.
	status, took = up.send(t, addr, len(up.body)/2, 0, len(up.body)/2)
	if status == http.StatusCreated || took > slowIdle+2*time.Second {
		t.Fatalf("stalled upload: status %d after %s, want it cut about %s after the last byte", status, took, slowIdle)
	}
	if n := expenses(); n != 1 {
		t.Fatalf("%d expenses after the stalled upload, want 1", n)
	}

	// Steady but past the 12 s ceiling (100 pieces 150 ms apart: 15 s).
	status, took = up.send(t, addr, len(up.body)/100+1, 150*time.Millisecond, 0)
	if status == http.StatusCreated || took > slowMax+3*time.Second {
		t.Fatalf("upload past the ceiling: status %d after %s, want it cut at %s", status, took, slowMax)
	}
	if n := expenses(); n != 1 {
		t.Fatalf("%d expenses after the upload past the ceiling, want 1", n)
	}

	// A JSON request is no upload: trickled past the ReadTimeout it is cut.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"email":"bendahara@uji.grantflow.id","password":"bukan-sandi-ini"}`
	fmt.Fprintf(conn, "POST /api/v1/session HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", addr, len(body))
	start := time.Now()
	for i := 0; i < len(body) && time.Since(start) < 3*slowReadTimeout; i++ {
		if _, err := conn.Write([]byte{body[i]}); err != nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if resp, err := http.ReadResponse(bufio.NewReader(conn), nil); err == nil {
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Fatalf("JSON trickled past the ReadTimeout answered %d", resp.StatusCode)
		}
	}
	if took := time.Since(start); took > slowReadTimeout+3*time.Second {
		t.Fatalf("JSON trickle lasted %s, want it cut at the %s ReadTimeout", took, slowReadTimeout)
	}
}
