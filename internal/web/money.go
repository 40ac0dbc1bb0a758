package web

import (
	"bytes"
	"fmt"
	"mime"
	"strings"

	"github.com/gofiber/fiber/v2"

	"grantflow/internal/evidence"
	"grantflow/internal/grants"
	"grantflow/reports"
	"grantflow/workflow"
)

func (s *Server) moneyRoutes(api fiber.Router) {
	api.Post("/grants/:id/disbursements", s.disburse)
	api.Get("/grants/:id/disbursements", s.disbursements)
	api.Post("/grants/:id/expenses", s.recordExpense)
	api.Get("/grants/:id/expenses", s.expenses)
	api.Post("/grants/:id/expenses/:eid/void", s.voidExpense)
	api.Post("/grants/:id/refunds", s.recordRefund)
	api.Get("/grants/:id/refunds", s.refunds)
	api.Get("/grants/:id/ledger", s.ledger)
	api.Post("/grants/:id/activities/:aid/evidence", s.addEvidence)
	api.Get("/grants/:id/evidence", s.evidenceList)
	api.Get("/evidence/:id", s.evidence)
}

func (s *Server) disburse(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in grants.DisbursementInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	d, err := s.svc.Disburse(c.UserContext(), actor(c), id, in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(d)
}

func (s *Server) disbursements(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	ds, err := s.svc.Disbursements(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": ds, "total": len(ds)})
}

var expenseFields = []string{"spent_on", "budget_line_id", "activity_id", "vendor", "description", "amount", "tax_ppn", "tax_pph"}

func (s *Server) recordExpense(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	// Refuse before storing a byte when this person may not record here.
	if err := s.canUpload(c, id, workflow.RoleTreasurer); err != nil {
		return err
	}
	var receipt *evidence.Object
	f, err := readMultipart(c, expenseFields, "receipt", s.ingestPart(c, &receipt))
	if err != nil {
		return err
	}
	if err := f.check(expenseInput(f), "belanja tidak dapat dicatat"); err != nil {
		return err
	}
	ctx, cancel := s.dbContext()
	defer cancel()
	in := expenseInput(f)
	e, err := s.svc.RecordExpense(ctx, actor(c), id, in, receipt)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(e)
}

// expenseInput reads the expense form's fields; problems stay in f.
func expenseInput(f *form) grants.ExpenseInput {
	return grants.ExpenseInput{SpentOn: f.date("spent_on"), BudgetLineID: f.id("budget_line_id"), ActivityID: f.id("activity_id"),
		Vendor: f.fields["vendor"], Description: f.fields["description"],
		Amount: f.rupiah("amount"), TaxPPN: f.rupiah("tax_ppn"), TaxPPh: f.rupiah("tax_pph")}
}

func (s *Server) expenses(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	es, err := s.svc.Expenses(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": es, "total": len(es)})
}

func (s *Server) voidExpense(c *fiber.Ctx) error {
	id, eid, err := idPair(c, "eid")
	if err != nil {
		return err
	}
	var in grants.VoidInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	e, err := s.svc.VoidExpense(c.UserContext(), actor(c), id, eid, in.Reason)
	if err != nil {
		return err
	}
	return c.JSON(e)
}

// recordRefund takes JSON {"amount","paid_on","ntpn"} or, to attach the
// deposit slip, multipart with the same fields and a file "proof".
func (s *Server) recordRefund(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in grants.RefundInput
	var proof *evidence.Object
	if isMultipart(c) {
		if err := s.canUpload(c, id, workflow.RoleTreasurer); err != nil {
			return err
		}
		f, err := readMultipart(c, []string{"amount", "paid_on", "ntpn"}, "proof", s.ingestPart(c, &proof))
		if err != nil {
			return err
		}
		in = grants.RefundInput{Amount: f.rupiah("amount"), PaidOn: f.date("paid_on"), NTPN: f.fields["ntpn"]}
		if err := f.check(in, "setoran sisa dana tidak valid"); err != nil {
			return err
		}
	} else if err := decodeJSON(c, &in); err != nil {
		return err
	}
	ctx, cancel := s.dbContext()
	defer cancel()
	r, err := s.svc.RecordRefund(ctx, actor(c), id, in, proof)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(r)
}

func (s *Server) refunds(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	rs, err := s.svc.Refunds(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": rs, "total": len(rs)})
}

func (s *Server) ledger(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	v, rows, err := s.svc.Ledger(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	name := "bku-" + v.Number
	switch c.Query("format") {
	case "":
		return c.JSON(fiber.Map{"grant_id": v.ID, "number": v.Number, "items": rows, "total": len(rows), "balance": v.Balance})
	case "csv":
		var b bytes.Buffer
		if err := reports.LedgerCSV(&b, rows); err != nil {
			return err
		}
		return sendDownload(c, "text/csv; charset=utf-8", name+".csv", b.Bytes())
	case "xlsx":
		var b bytes.Buffer
		if err := reports.LedgerXLSX(&b, v.Number, rows); err != nil {
			return err
		}
		return sendDownload(c, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", name+".xlsx", b.Bytes())
	}
	return &workflow.Error{Code: workflow.EInvalid, Message: "format tidak dikenal",
		Details: []workflow.Detail{{Field: "format", Message: "gunakan csv atau xlsx"}}}
}

// canUpload asks, with a database deadline of its own, whether the caller
// may upload to grant id now.
func (s *Server) canUpload(c *fiber.Ctx, id int64, roles ...workflow.Role) error {
	ctx, cancel := s.dbContext()
	defer cancel()
	return s.svc.CanUpload(ctx, actor(c), id, roles...)
}

// attachment sets the headers of a download: the browser saves it, never renders it.
func attachment(c *fiber.Ctx, contentType, filename string) {
	c.Set(fiber.HeaderContentType, contentType)
	c.Set(fiber.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": filename}))
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderCacheControl, "private, no-store")
}

func sendDownload(c *fiber.Ctx, contentType, filename string, b []byte) error {
	attachment(c, contentType, filename)
	return c.Send(b)
}

func (s *Server) addEvidence(c *fiber.Ctx) error {
	id, aid, err := idPair(c, "aid")
	if err != nil {
		return err
	}
	if err := s.canUpload(c, id, workflow.RoleChair, workflow.RoleTreasurer); err != nil {
		return err
	}
	var obj *evidence.Object
	f, err := readMultipart(c, []string{"kind"}, "file", s.ingestPart(c, &obj))
	if err != nil {
		return err
	}
	ctx, cancel := s.dbContext()
	defer cancel()
	row, err := s.svc.AddActivityEvidence(ctx, actor(c), id, aid, strings.TrimSpace(f.fields["kind"]), obj)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(row)
}

func (s *Server) evidenceList(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	fs, err := s.svc.Evidence(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": fs, "total": len(fs)})
}

var extensions = map[string]string{evidence.MIMEJPEG: ".jpg", evidence.MIMEPNG: ".png", evidence.MIMEPDF: ".pdf"}

// evidence serves a stored file to people in scope, as an attachment with
// its stored type; ?preview=1 gives the downscaled EXIF-free copy of an image.
func (s *Server) evidence(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	preview := c.Query("preview") == "1"
	f, rc, err := s.svc.OpenEvidence(c.UserContext(), actor(c), id, preview)
	if err != nil {
		return err
	}
	name := fmt.Sprintf("%s-%d", f.Kind, f.ID)
	if preview {
		name += "-pratinjau"
	}
	attachment(c, f.MIME, name+extensions[f.MIME])
	c.Set(fiber.HeaderContentSecurityPolicy, "default-src 'none'; sandbox")
	if preview {
		c.Set("X-Evidence-SHA256", f.PreviewSHA256)
	} else {
		c.Set("X-Evidence-SHA256", f.SHA256)
	}
	size := int(f.Size)
	if f.Size < 0 {
		size = -1
	}
	// SetBodyStream closes rc once the response is written.
	c.Context().SetBodyStream(rc, size)
	return nil
}
