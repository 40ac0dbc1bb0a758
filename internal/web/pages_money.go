package web

import (
	"bufio"
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/gofiber/fiber/v2"

	"grantflow/internal/evidence"
	"grantflow/internal/grants"
	"grantflow/money"
	"grantflow/workflow"
)

// expenseForm is the data of templates/expense.html: what was typed, the
// grant's lines and sessions to choose from, the taxes the programme's
// rates suggest and the meterai warning, all computed on the server.
type expenseForm struct {
	G                      grants.View
	Fields                 map[string]string
	Rates                  workflow.TaxRates
	SuggestPPN, SuggestPPh int64
	Meterai                bool
	Checked                bool   // the preview step ran: taxes and warning shown
	Receipt                string // signed token of a receipt already stored
	ReceiptMIME            string
	Expenses               []workflow.Expense
	Errors                 formErrors
}

// receiptField is the file input of the expense page.
const receiptField = "receipt"

// expensePageFields are the text fields of the expense form: the API's plus
// the CSRF token, the step and the token of a receipt already uploaded.
var expensePageFields = append(append([]string{}, expenseFields...), csrfField, "op", "receipt_token")

// receiptToken signs a stored receipt for the session, so that a form
// re-rendered after a refusal carries the file already uploaded instead of
// asking the phone to send it again. The HMAC keyed with the session token
// means a token cannot be forged or used from another session.
func receiptToken(session string, obj evidence.Object) string {
	b, _ := json.Marshal(obj)
	p := base64.RawURLEncoding.EncodeToString(b)
	return p + "." + csrfOf(session, "receipt "+p)
}

// receiptFromToken returns the receipt a token names, or false when it is
// not one this session signed.
func receiptFromToken(session, tok string) (*evidence.Object, bool) {
	p, sig, ok := strings.Cut(tok, ".")
	if !ok || !hmac.Equal([]byte(sig), []byte(csrfOf(session, "receipt "+p))) {
		return nil, false
	}
	b, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return nil, false
	}
	var obj evidence.Object
	if json.Unmarshal(b, &obj) != nil || obj.SHA256 == "" {
		return nil, false
	}
	return &obj, true
}

// suggestTaxes computes PPN and PPh 22 on a gross amount with the
// programme's rates, rounded down to the rupiah (SPEC §4). They are a
// suggestion shown beside the fields: what the receipt says is what counts.
func suggestTaxes(amount int64, r workflow.TaxRates) (ppn, pph int64) {
	if amount <= 0 {
		return 0, 0
	}
	return amount * int64(r.PPN) / 10000, amount * int64(r.PPh22) / 10000
}

// loadExpenseForm reads the grant, its programme's tax rates and its expenses.
func (s *Server) loadExpenseForm(c *fiber.Ctx, id int64) (expenseForm, error) {
	ctx, a := c.UserContext(), actor(c)
	f := expenseForm{Fields: map[string]string{}}
	var err error
	if f.G, err = s.svc.Grant(ctx, a, id); err != nil {
		return f, err
	}
	prog, err := s.svc.Program(ctx, a, f.G.ProgramID)
	if err != nil {
		return f, err
	}
	prog.ApplyDefaults()
	f.Rates = prog.TaxRates
	if f.Expenses, err = s.svc.Expenses(ctx, a, id); err != nil {
		return f, err
	}
	return f, nil
}

func (s *Server) expensePage(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	f, err := s.loadExpenseForm(c, id)
	if err != nil {
		return err
	}
	f.Fields["spent_on"] = s.today().String()
	return s.render(c, fiber.StatusOK, "expense", "Belanja "+f.G.Number, f)
}

// today is the service's Jakarta calendar day.
func (s *Server) today() workflow.Date { return s.mon.Today() }

// expensePost takes the multipart expense form. The CSRF token travels
// inside the multipart body (the body is streamed, so the generic check
// cannot read it first); a post without a valid token is refused before
// anything is recorded, and a receipt it carried is left for `grantflow
// gc`. "Periksa" (op=check) stores the receipt and shows the suggested
// taxes and the meterai warning without saving; "Simpan" records the
// expense through the same service call as POST /grants/{id}/expenses.
func (s *Server) expensePost(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if err := s.canUpload(c, id, workflow.RoleTreasurer); err != nil {
		return err
	}
	var receipt *evidence.Object
	mf, err := readMultipart(c, expensePageFields, receiptField, s.ingestChosen(c, &receipt))
	var uploadErr error
	if err != nil {
		// Too large, wrong type, cut off: the page shows it beside the file
		// field with every text field read before the file (the file input
		// is the form's last field), so only the file is asked again.
		if mf == nil || workflow.ErrorCode(err) == workflow.EInternal || workflow.ErrorCode(err) == workflow.EUnavailable {
			return err
		}
		uploadErr = err
	}
	ctx, cancel, err := s.afterStream(c, mf.fields[csrfField])
	if err != nil {
		return err
	}
	defer cancel()
	session, _ := c.Locals("session").(string) // the receipt token is signed with it
	f, err := s.loadExpenseForm(c, id)
	if err != nil {
		return err
	}
	for _, k := range expenseFields {
		f.Fields[k] = mf.fields[k]
	}
	if receipt == nil && mf.fields["receipt_token"] != "" {
		receipt, _ = receiptFromToken(session, mf.fields["receipt_token"])
	}
	if receipt != nil {
		f.Receipt, f.ReceiptMIME = receiptToken(session, *receipt), receipt.MIME
	}
	in := expenseInput(mf)
	f.SuggestPPN, f.SuggestPPh = suggestTaxes(in.Amount, f.Rates)
	f.Meterai = in.Amount > workflow.MeteraiThreshold
	status := fiber.StatusOK
	if uploadErr != nil {
		var we *workflow.Error
		switch {
		case errors.As(uploadErr, &we) && (we.Code == workflow.ETooLarge || we.Code == workflow.EUnsupported):
			// The refusals of the file itself, which forms elsewhere never meet.
			f.Errors.field(receiptField, sentence(we.Message)+". Pilih foto atau PDF nota (JPEG, PNG atau PDF, paling besar 10 MiB).")
			status = statusOf[we.Code]
		default:
			if status = f.Errors.from(uploadErr, receiptField); status == 0 {
				return uploadErr
			}
		}
		return s.render(c, status, "expense", "Belanja "+f.G.Number, f)
	}
	if receipt == nil {
		mf.p.Add(receiptField, "nota wajib diunggah")
	}
	err = mf.check(in, "belanja tidak dapat dicatat")
	if mf.fields["op"] == "check" {
		f.Checked = true
		if f.Fields["tax_ppn"] == "" {
			f.Fields["tax_ppn"] = strings.TrimPrefix(money.Format(f.SuggestPPN), "Rp ")
		}
		if f.Fields["tax_pph"] == "" {
			f.Fields["tax_pph"] = strings.TrimPrefix(money.Format(f.SuggestPPh), "Rp ")
		}
		if err != nil {
			status = f.Errors.from(err, append(expenseFields, receiptField)...)
		}
		return s.render(c, status, "expense", "Belanja "+f.G.Number, f)
	}
	if err == nil {
		_, err = s.svc.RecordExpense(ctx, actor(c), id, in, receipt)
		if err == nil {
			return c.Redirect(fmt.Sprintf("/hibah/%d/belanja?tercatat=1", id), fiber.StatusSeeOther)
		}
	}
	if status = f.Errors.from(err, append(expenseFields, receiptField)...); status == 0 {
		return err
	}
	return s.render(c, status, "expense", "Belanja "+f.G.Number, f)
}

// ingestChosen is ingestPart for a file input the person may leave
// empty: a browser sends an empty part for it, which is "no new file"
// (the receipt of the check step stays), not an empty file to refuse.
func (s *Server) ingestChosen(c *fiber.Ctx, dst **evidence.Object) func(io.Reader) error {
	return func(r io.Reader) error {
		br := bufio.NewReader(r)
		if _, err := br.Peek(1); errors.Is(err, io.EOF) {
			return nil
		}
		return s.ingestPart(c, dst)(br)
	}
}

// voidPost voids an expense with a reason, as POST …/expenses/{eid}/void.
func (s *Server) voidPost(c *fiber.Ctx) error {
	id, eid, err := idPair(c, "eid")
	if err != nil {
		return err
	}
	reason := strings.TrimSpace(c.FormValue("reason"))
	in := grants.VoidInput{Reason: reason}
	err = (&form{}).check(in, "belanja tidak dapat dibatalkan")
	if err == nil {
		_, err = s.svc.VoidExpense(c.UserContext(), actor(c), id, eid, reason)
		if err == nil {
			return c.Redirect(fmt.Sprintf("/hibah/%d/belanja", id), fiber.StatusSeeOther)
		}
	}
	f, lerr := s.loadExpenseForm(c, id)
	if lerr != nil {
		return lerr
	}
	f.Fields["spent_on"] = s.today().String()
	var ve formErrors
	status := ve.from(err, "reason")
	if status == 0 {
		return err
	}
	// The messages go beside the void form of that one expense.
	f.Errors.Fields = map[string]string{}
	for k, v := range ve.Fields {
		f.Errors.Fields[fmt.Sprintf("void-%d-%s", eid, k)] = v
	}
	f.Errors.Fields[fmt.Sprintf("void-%d-value", eid)] = reason
	f.Errors.Form = ve.Form
	return s.render(c, status, "expense", "Belanja "+f.G.Number, f)
}

// refundForm is the data of templates/refund.html.
type refundForm struct {
	G       grants.View
	Refunds []workflow.Refund
	Amount  string
	PaidOn  string
	NTPN    string
	Errors  formErrors
}

func (s *Server) loadRefundForm(c *fiber.Ctx, id int64) (refundForm, error) {
	var f refundForm
	var err error
	if f.G, err = s.svc.Grant(c.UserContext(), actor(c), id); err != nil {
		return f, err
	}
	f.Refunds, err = s.svc.Refunds(c.UserContext(), actor(c), id)
	return f, err
}

func (s *Server) refundPage(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	f, err := s.loadRefundForm(c, id)
	if err != nil {
		return err
	}
	f.PaidOn = s.today().String()
	if f.G.Balance > 0 {
		f.Amount = strings.TrimPrefix(money.Format(f.G.Balance), "Rp ")
	}
	return s.render(c, fiber.StatusOK, "refund", "Setor sisa dana "+f.G.Number, f)
}

// refundPost records unspent money returned, as POST /grants/{id}/refunds.
func (s *Server) refundPost(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	f, err := s.loadRefundForm(c, id)
	if err != nil {
		return err
	}
	f.Amount, f.PaidOn, f.NTPN = c.FormValue("amount"), c.FormValue("paid_on"), c.FormValue("ntpn")
	fm := &form{fields: map[string]string{"amount": f.Amount, "paid_on": f.PaidOn, "ntpn": f.NTPN}}
	in := grants.RefundInput{Amount: fm.rupiah("amount"), PaidOn: fm.date("paid_on"), NTPN: f.NTPN}
	err = fm.check(in, "setoran sisa dana tidak valid")
	if err == nil {
		_, err = s.svc.RecordRefund(c.UserContext(), actor(c), id, in, nil)
		if err == nil {
			return c.Redirect(fmt.Sprintf("/hibah/%d", id), fiber.StatusSeeOther)
		}
	}
	status := f.Errors.from(err, "amount", "paid_on", "ntpn")
	if status == 0 {
		return err
	}
	return s.render(c, status, "refund", "Setor sisa dana "+f.G.Number, f)
}
