package main_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"grantflow/internal/demo"
	"grantflow/internal/evidence"
	"grantflow/internal/evidence/evidencetest"
	"grantflow/internal/grants"
	"grantflow/internal/postgres"
	"grantflow/internal/postgres/pgtest"
	"grantflow/workflow"
)

// TestCrashDuringUploads kills the real server with SIGKILL while receipts
// are streaming in, restarts it, and checks that no evidence row points to a
// missing file and that `grantflow gc` removes exactly the unreferenced files.
func TestCrashDuringUploads(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the real binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "grantflow")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	dbURL := pgtest.URL(pgtest.NewDatabase(t))
	dataDir := filepath.Join(dir, "data")
	addr := freeAddr(t)
	env := append(os.Environ(), "DATABASE_URL="+dbURL, "GRANTFLOW_DATA_DIR="+dataDir, "GRANTFLOW_ADDR="+addr)

	ctx := context.Background()
	db, err := postgres.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	grantID := fundedGrant(t, db)

	srv := start(t, bin, env, addr)
	token := login(t, addr, "bendahara@crash.test")

	// Complete uploads first: these must survive with their files.
	for i := 0; i < 3; i++ {
		if code := upload(addr, token, grantID, payload(200<<10), 0); code != http.StatusCreated {
			t.Fatalf("upload %d before crash: status %d: %s", i, code, lastError)
		}
	}
	// Then uploads in flight: half stall in the middle of the file, half
	// after the file but before the last form field (the file is stored,
	// its row not yet written).
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			upload(addr, token, grantID, payload(3<<20), 1+i%2)
		}(i)
	}
	// Kill once some stalled upload has its file stored (decoding a 3 MiB
	// PDF takes a while on a loaded machine) and some is still mid-file.
	inFlight, err := evidence.NewLocal(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		temps, _ := filepath.Glob(filepath.Join(dataDir, "tmp", "upload-*"))
		if len(blobs(t, inFlight)) > 3 && len(temps) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no stalled upload reached the store within 90 s")
		}
	}
	if err := srv.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = srv.Wait()
	close(release) // the stalled clients give up now that the server is gone
	wg.Wait()

	srv = start(t, bin, env, addr)
	defer func() { _ = srv.Process.Signal(syscall.SIGTERM); _ = srv.Wait() }()

	store, err := evidence.NewLocal(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	rows := referenced(t, db)
	if len(rows) < 3 {
		t.Fatalf("want the 3 completed receipts in the database, got %d referenced files", len(rows))
	}
	for key := range rows {
		if ok, err := store.Exists(ctx, key); err != nil || !ok {
			t.Errorf("row points to missing file %s (err %v)", key, err)
		}
	}
	before := blobs(t, store)
	orphans := 0
	for _, k := range before {
		if !rows[k] {
			orphans++
		}
	}
	if orphans == 0 {
		t.Fatalf("the crash left no stored-but-unreferenced file; the test did not catch an upload between store and row")
	}
	temps, _ := filepath.Glob(filepath.Join(dataDir, "tmp", "upload-*"))
	if len(temps) == 0 {
		t.Fatalf("the crash left no partial upload; the test did not catch an upload mid-file")
	}

	// A staging file is swept once it is an hour old whatever the grace
	// (a younger one may be a slow upload still arriving): the crash's are
	// aged by hand, as if gc ran after the next hour.
	aged := time.Now().Add(-2 * time.Hour)
	for _, p := range temps {
		if err := os.Chtimes(p, aged, aged); err != nil {
			t.Fatal(err)
		}
	}
	gc := exec.Command(bin, "gc", "--grace", "0s")
	gc.Env = env
	out, err := gc.CombinedOutput()
	if err != nil {
		t.Fatalf("gc: %v\n%s", err, out)
	}
	want := fmt.Sprintf("%d removed, %d abandoned uploads removed", orphans, len(temps))
	if !strings.Contains(string(out), want) {
		t.Fatalf("gc said %q, want it to mention %q", out, want)
	}
	after := blobs(t, store)
	if len(after) != len(before)-orphans {
		t.Fatalf("gc left %d files, want %d", len(after), len(before)-orphans)
	}
	for _, k := range after {
		if !rows[k] {
			t.Errorf("gc kept unreferenced file %s", k)
		}
	}
	for key := range rows {
		if ok, _ := store.Exists(ctx, key); !ok {
			t.Errorf("gc removed referenced file %s", key)
		}
	}
	if temps, _ := filepath.Glob(filepath.Join(dataDir, "tmp", "upload-*")); len(temps) != 0 {
		t.Errorf("gc left %d partial uploads", len(temps))
	}
	breaks, _, err := grants.New(db, grants.Options{}).VerifyChains(ctx)
	if err != nil || len(breaks) != 0 {
		t.Fatalf("audit chain after crash: %v %v", breaks, err)
	}
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func start(t *testing.T, bin string, env []string, addr string) *exec.Cmd {
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(env, "GRANTFLOW_ADDR="+addr)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get("http://" + addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return cmd
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	t.Fatal("server did not become ready")
	return nil
}

func login(t *testing.T, addr, email string) string {
	resp, err := http.Post("http://"+addr+"/api/v1/session", "application/json",
		strings.NewReader(fmt.Sprintf(`{"email":%q,"password":"crash-test-pw"}`, email)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Token string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Token == "" {
		t.Fatalf("login: %d %v", resp.StatusCode, err)
	}
	return out.Token
}

// payload is a PDF header followed by random bytes: accepted by content
// sniffing, and unique so that every upload is its own file.
// payload is a valid, unique PDF of about n bytes: the store refuses files
// that do not parse, so the random bytes go into a comment after the header.
func payload(n int) []byte {
	raw := make([]byte, n/2)
	_, _ = rand.Read(raw)
	b, _ := evidencetest.PDF([]byte("% " + hex.EncodeToString(raw) + "\n"))
	return b
}

// upload sends one expense. stall 0 sends it whole; 1 stops mid-file; 2
// sends the whole file and stops before the last field. A stalled upload
// hangs until the server dies.
func upload(addr, token string, grantID int64, file []byte, stall int) int {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		for k, v := range map[string]string{"spent_on": workflow.DateOf(time.Now().In(workflow.Jakarta)).String(), "budget_line_id": fmt.Sprint(budgetLine), "vendor": "Toko Berkah", "amount": "1000"} {
			_ = mw.WriteField(k, v)
		}
		fw, err := mw.CreateFormFile("receipt", "nota.pdf")
		if err != nil {
			return // the server answered early and the transport closed the pipe
		}
		if stall == 1 {
			_, _ = fw.Write(file[:len(file)/2])
			<-release
			pw.CloseWithError(io.ErrUnexpectedEOF)
			return
		}
		_, _ = fw.Write(file)
		if stall == 2 {
			_, _ = mw.CreateFormField("description")
			<-release
			pw.CloseWithError(io.ErrUnexpectedEOF)
			return
		}
		_ = mw.WriteField("description", "Konsumsi rapat")
		_ = mw.Close()
		_ = pw.Close()
	}()
	req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("http://%s/api/v1/grants/%d/expenses", addr, grantID), pr)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := (&http.Client{Timeout: 2 * time.Minute}).Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		lastError = string(body)
	}
	return resp.StatusCode
}

// lastError keeps the body of the last refused upload, for failure messages.
var lastError string

// release ends the stalled client goroutines when the test is over.
var release = make(chan struct{})

// budgetLine is the first line of the grant; uploads name it by id.
var budgetLine int64

// fundedGrant drives a grant to funded through the service and returns its id.
func fundedGrant(t *testing.T, db *postgres.DB) int64 {
	ctx := context.Background()
	today := workflow.DateOf(time.Now().In(workflow.Jakarta))
	svc := grants.New(db, grants.Options{})
	prog, err := svc.CreateProgram(ctx, grants.System, workflow.Program{Name: "Program Uji Crash", Year: today.Time().Year(),
		ProposalOpensOn: today.AddDays(-10), ProposalClosesOn: today.AddDays(10), ActivityEndsOn: today.AddDays(100),
		ReportDueOn: today.AddDays(120), BudgetTotal: 1_000_000_000})
	if err != nil {
		t.Fatal(err)
	}
	g := workflow.Group{Kind: workflow.KKG, Name: "KKG MI Uji Crash", Level: "MI", Province: "Jawa Barat", Regency: "Kota Bandung",
		SKNumber: "SK-1", BankName: "BSI", BankAccountNumber: "7100000001", BankAccountName: "KKG MI Uji Crash"}
	g.Members = demo.Members(1, 15, "MIN 1 Bandung")
	if g, err = svc.CreateGroup(ctx, grants.System, g); err != nil {
		t.Fatal(err)
	}
	user := func(email string, role workflow.Role, groupID int64) workflow.Actor {
		u, err := svc.CreateUser(ctx, grants.System, grants.NewUser{Email: email, Name: email, Password: "crash-test-pw", Roles: []workflow.Role{role}, GroupID: groupID})
		if err != nil {
			t.Fatal(err)
		}
		return workflow.Actor{UserID: u.ID, Name: u.Name, Roles: u.Roles, GroupID: groupID}
	}
	chair := user("ketua@crash.test", workflow.RoleChair, g.ID)
	user("bendahara@crash.test", workflow.RoleTreasurer, g.ID)
	verifier, approver, finance := user("v@crash.test", workflow.RoleVerifier, 0), user("a@crash.test", workflow.RoleApprover, 0), user("f@crash.test", workflow.RoleFinance, 0)
	v, err := svc.OpenGrant(ctx, chair, prog.ID, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	p := demo.Proposal(g.Kind, today.AddDays(1))
	if v, err = svc.SaveProposal(ctx, chair, v.ID, p); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		who    workflow.Actor
		action workflow.Action
		in     grants.ActInput
	}{
		{chair, workflow.Submit, grants.ActInput{}},
		{verifier, workflow.StartReview, grants.ActInput{}},
		{verifier, workflow.Recommend, grants.ActInput{Comment: "ok", ApprovedAmount: v.Proposal.Total()}},
		{approver, workflow.Approve, grants.ActInput{}},
	} {
		if v, err = svc.Act(ctx, step.who, v.ID, step.action, step.in); err != nil {
			t.Fatalf("%s: %v", step.action, err)
		}
	}
	prog, _ = svc.Program(ctx, grants.System, prog.ID)
	share := prog.TrancheAmounts(v.AmountApproved)[0]
	if _, err := svc.Disburse(ctx, finance, v.ID, grants.DisbursementInput{Tranche: 1, Amount: share, TransferredOn: today.AddDays(-1), Reference: "TRF-1"}); err != nil {
		t.Fatal(err)
	}
	budgetLine = v.Budget[0].ID
	return v.ID
}

func referenced(t *testing.T, db *postgres.DB) map[string]bool {
	m, err := db.ReferencedFiles(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func blobs(t *testing.T, st evidence.Store) []string {
	var out []string
	if err := st.List(context.Background(), func(key string, _ time.Time) error { out = append(out, key); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}
