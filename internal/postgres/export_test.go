package postgres

// MapErr exposes mapErr to the external tests, which cannot live in package
// postgres because pgtest imports it.
var MapErr = mapErr
