module github.com/nonroot-init/nonroot-init

go 1.26.8

require (
	github.com/hashicorp/go-multierror v1.1.1
	github.com/kelseyhightower/envconfig v1.4.0
	golang.org/x/sys v0.50.0
)

require github.com/hashicorp/errwrap v1.0.0 // indirect
