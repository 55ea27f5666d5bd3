module gitlab.acme.example/apps/gateway

go 1.23.0

require (
	github.com/go-chi/chi/v5 v5.1.0
	gitlab.acme.example/libs/go-common v1.4.2
)

require golang.org/x/sys v0.26.0 // indirect
