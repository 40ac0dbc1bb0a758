// Package migrations holds the forward-only SQL migrations of grantflow,
// embedded so that the binary migrates its own database.
package migrations

import "embed"

// FS holds every NNNN_verb_noun.sql file of this folder.
//
//go:embed *.sql
var FS embed.FS
