package workflow

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// NewEvent returns the audit event of a record that does not move the grant
// (an expense, a void, a refund, an activity realisation): FromState and
// ToState are both g.State. The comment is trimmed and the time is stored as
// UTC microseconds like every event; Seq, PrevHash and Hash are left for the
// database layer.
func NewEvent(g Grant, action string, a Actor, role Role, now time.Time, comment string, data map[string]any) Event {
	return Event{
		GrantID:   g.ID,
		Action:    action,
		FromState: g.State,
		ToState:   g.State,
		ActorID:   a.UserID,
		ActorName: a.Name,
		ActorRole: role,
		Comment:   strings.TrimSpace(comment),
		Data:      data,
		At:        eventTime(now),
	}
}

// Canonical returns the bytes an event's hash covers: a JSON object with the
// keys action, actor_id, actor_name, actor_role, at, comment, data,
// from_state, grant_id, seq and to_state, sorted, with no spaces and no HTML
// escaping. at is RFC 3339 with nanoseconds as needed, in UTC. data is an
// object ({} when nil) re-encoded with sorted keys, and its numbers are
// written by their digits, so int, int64 and json.Number (what a JSONB column
// decodes to with UseNumber) give the same bytes. ID, PrevHash and Hash are
// not covered: the chain links them.
//
// Canonical never fails: a data value that cannot be encoded as JSON (a
// channel, a function) is written as the string of its Go value, which is
// deterministic and still changes the hash when the value changes.
func (e Event) Canonical() []byte {
	// The keys are written by hand, already in sorted order, so that no
	// encoder option or map ordering can ever change the bytes.
	var b bytes.Buffer
	b.WriteString(`{"action":`)
	b.Write(jsonString(e.Action))
	b.WriteString(`,"actor_id":`)
	b.WriteString(strconv.FormatInt(e.ActorID, 10))
	b.WriteString(`,"actor_name":`)
	b.Write(jsonString(e.ActorName))
	b.WriteString(`,"actor_role":`)
	b.Write(jsonString(string(e.ActorRole)))
	b.WriteString(`,"at":`)
	b.Write(jsonString(e.At.UTC().Format(time.RFC3339Nano)))
	b.WriteString(`,"comment":`)
	b.Write(jsonString(e.Comment))
	b.WriteString(`,"data":`)
	b.Write(canonicalData(e.Data))
	b.WriteString(`,"from_state":`)
	b.Write(jsonString(string(e.FromState)))
	b.WriteString(`,"grant_id":`)
	b.WriteString(strconv.FormatInt(e.GrantID, 10))
	b.WriteString(`,"seq":`)
	b.WriteString(strconv.Itoa(e.Seq))
	b.WriteString(`,"to_state":`)
	b.Write(jsonString(string(e.ToState)))
	b.WriteByte('}')
	return b.Bytes()
}

// jsonString encodes s as a JSON string; encoding a string cannot fail
// (invalid UTF-8 becomes U+FFFD).
func jsonString(s string) []byte {
	out, _ := encodeJSON(s)
	return out
}

// canonicalData encodes data with sorted keys at every depth. It encodes
// once, decodes with UseNumber so that every number keeps its digits, and
// encodes again, which erases the differences between Go types (int vs
// int64 vs json.Number, structs vs maps) that would otherwise leak into the
// hash.
func canonicalData(data map[string]any) []byte {
	if len(data) == 0 {
		return []byte("{}")
	}
	raw, err := encodeJSON(data)
	if err != nil {
		fixed := make(map[string]any, len(data))
		for k, v := range data {
			if _, err := encodeJSON(v); err != nil {
				v = fmt.Sprintf("%v", v)
			}
			fixed[k] = v
		}
		if raw, err = encodeJSON(fixed); err != nil {
			return []byte("{}")
		}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return raw
	}
	out, err := encodeJSON(v) // map keys come out sorted
	if err != nil {
		return raw
	}
	return out
}

// encodeJSON is json.Marshal without HTML escaping and without the trailing
// newline of an Encoder.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// ChainHash returns the lowercase hex SHA-256 of prevHash's bytes followed by
// canonical (an Event's Canonical()). The first event of a grant has
// prevHash "" so its hash is sha256(canonical); each later event chains on
// the Hash of the one before it, so changing any event breaks every hash
// after it.
func ChainHash(prevHash string, canonical []byte) string {
	h := sha256.New()
	h.Write([]byte(prevHash))
	h.Write(canonical)
	return hex.EncodeToString(h.Sum(nil))
}
