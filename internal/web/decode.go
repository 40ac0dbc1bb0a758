package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"unicode"

	"github.com/gofiber/fiber/v2"

	"grantflow/workflow"
)

// decodeJSON reads exactly one JSON object into dst, refusing unknown fields
// and trailing data. Every failure is an EInvalid error naming the field.
func decodeJSON(c *fiber.Ctx, dst any) error {
	if isMultipart(c) {
		// limitJSON did not bound a multipart body: never read one here.
		return workflow.Errorf(workflow.EUnsupported, "kirim isi permintaan sebagai JSON")
	}
	// The raw bytes limitJSON bounded; c.Body() would also unpack a
	// Content-Encoding, which limitJSON refuses anyway.
	body := c.Request().Body()
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return workflow.Errorf(workflow.EInvalid, "isi permintaan kosong: kirim objek JSON")
	}
	// encoding/json accepts a bare null as "nothing to change": for PUT
	// proposal that would silently empty a draft. Only an object is a request.
	if trimmed[0] != '{' {
		return workflow.Errorf(workflow.EInvalid, "isi permintaan harus berupa objek JSON")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(dst)
	if err == nil && dec.More() {
		err = errors.New("trailing data")
	}
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			err = errors.New("trailing data")
		}
	}
	if err == nil {
		return nil
	}
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var we *workflow.Error
	switch {
	case errors.As(err, &syntax):
		return workflow.Errorf(workflow.EInvalid, "JSON tidak valid pada posisi %d", syntax.Offset)
	case errors.As(err, &typ):
		field := jsonPath(typ.Field)
		if field == "" {
			return workflow.Errorf(workflow.EInvalid, "isi permintaan harus berupa objek JSON")
		}
		msg := "harus berupa " + typeName(typ.Type.Kind().String())
		if typ.Type == reflect.TypeOf(workflow.Date{}) {
			msg = "tanggal tidak valid, gunakan format YYYY-MM-DD"
		}
		return &workflow.Error{Code: workflow.EInvalid, Message: "jenis data tidak sesuai",
			Details: []workflow.Detail{{Field: field, Message: msg}}}
	case errors.As(err, &we):
		return we
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &workflow.Error{Code: workflow.EInvalid, Message: "kolom tidak dikenal",
			Details: []workflow.Detail{{Field: name, Message: "kolom ini tidak dikenal"}}}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return workflow.Errorf(workflow.EInvalid, "JSON terpotong")
	default:
		return workflow.Errorf(workflow.EInvalid, "isi permintaan tidak dapat dibaca: kirim satu objek JSON")
	}
}

func typeName(kind string) string {
	switch {
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"):
		return "bilangan bulat"
	case kind == "string":
		return "teks"
	case kind == "bool":
		return "true atau false"
	case kind == "slice":
		return "daftar (array)"
	case kind == "map", kind == "struct":
		return "objek"
	}
	return fmt.Sprintf("nilai yang sesuai (%s)", kind)
}

// idParam reads a positive integer path parameter; anything else is ENotFound,
// since no record has such an id.
func idParam(c *fiber.Ctx, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Params(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, workflow.Errorf(workflow.ENotFound, "%s tidak ditemukan", c.Params(name))
	}
	return id, nil
}

// idPair reads the grant id and the id of one of its rows (an activity, an
// expense) from the route, each answering 404 when it is no id.
func idPair(c *fiber.Ctx, child string) (int64, int64, error) {
	id, err := idParam(c, "id")
	if err != nil {
		return 0, 0, err
	}
	cid, err := idParam(c, child)
	return id, cid, err
}

// queryID reads an optional positive integer query parameter (0 when absent).
func queryID(c *fiber.Ctx, name string) (int64, error) {
	v := c.Query(name)
	if v == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, &workflow.Error{Code: workflow.EInvalid, Message: "parameter tidak valid",
			Details: []workflow.Detail{{Field: name, Message: "harus berupa bilangan bulat positif"}}}
	}
	return id, nil
}

// jsonPath is encoding/json's path of a field as the client wrote it: the
// path names an embedded struct by its Go type ("DisbursementInput.
// transferred_on"), which no client sends. Every JSON name here is
// snake_case, so a part before the last that starts with a capital is such
// a type. (The path has neither array indexes nor map keys: members.nip,
// not members[3].nip.)
func jsonPath(p string) string {
	parts := strings.Split(p, ".")
	out := make([]string, 0, len(parts))
	for i, part := range parts {
		goType := i < len(parts)-1 && part != "" && unicode.IsUpper([]rune(part)[0])
		if !goType {
			out = append(out, part)
		}
	}
	return strings.Join(out, ".")
}
