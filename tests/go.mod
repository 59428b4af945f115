module imagebuilder-webhook/tests

go 1.19

require (
	github.com/evanphx/json-patch v5.2.0+incompatible
	github.com/pkg/errors v0.9.1
	golang.org/x/net v0.7.0
)

require golang.org/x/text v0.7.0 // indirect
