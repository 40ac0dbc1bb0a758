// Package workflow is the domain of grantflow: programmes, groups, proposals
// and the grant state machine of SPEC §3, with the hash-chained audit events
// every transition leaves behind.
//
// The package is pure Go. It does no I/O, reads no clock and knows no
// database; besides the standard library it imports only grantflow/money,
// the pure rupiah formatting its messages use. Callers pass the time, the
// actor and the facts the guards read (Request), and persist what Apply
// returns. Every refusal is an *Error whose Code the web layer maps to one
// HTTP status; messages are in Bahasa Indonesia and safe to show a user.
package workflow
