// Command featfloor is gofloor linked with the packages SPEC.md's
// features need and nothing of nonroot-init's own: crypto/tls (WAIT's
// https://, with verified certificates), net (tcp://, unix://, DNS),
// text/template (Templates), encoding/json (doctor --json), log/slog,
// flag, and the chosen dependencies envconfig, go-multierror and
// x/sys/unix. It fork-execs its child and wait4s it as gofloor does; the
// rest is linked, and its packages initialised at every start, but never
// run. Its start-up overhead and size are the floor of any Go init with
// those features (make bench).
package main

import (
	"encoding/json"
	"flag"
	"log/slog"
	"net"
	"os"
	"syscall"
	"text/template"

	"crypto/tls"

	"github.com/hashicorp/go-multierror"
	"github.com/kelseyhightower/envconfig"
	"golang.org/x/sys/unix"
)

// use keeps each feature's code in the binary: called only with an
// argument no benchmark passes.
func use() error {
	var cfg struct {
		Volumes []string `split_words:"true"`
	}
	var errs *multierror.Error
	errs = multierror.Append(errs, envconfig.Process("nonroot", &cfg))
	t, err := template.New("t").Parse(os.Args[2])
	errs = multierror.Append(errs, err)
	if err == nil {
		errs = multierror.Append(errs, t.Execute(os.Stdout, cfg))
	}
	conn, err := net.Dial("tcp", os.Args[3])
	if err == nil {
		tc := tls.Client(conn, &tls.Config{ServerName: os.Args[4]})
		errs = multierror.Append(errs, tc.Handshake())
	}
	out, err := json.Marshal(cfg)
	errs = multierror.Append(errs, err)
	slog.Info("featfloor", "json", string(out), "stat", unix.Access(os.Args[5], unix.W_OK))
	flag.Parse()
	return errs.ErrorOrNil()
}

func main() {
	if len(os.Args) < 2 {
		os.Exit(2)
	}
	if os.Args[1] == "-featfloor-use" && len(os.Args) > 5 {
		if use() != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	pid, err := syscall.ForkExec(os.Args[1], os.Args[1:], &syscall.ProcAttr{
		Env:   os.Environ(),
		Files: []uintptr{0, 1, 2},
	})
	if err != nil {
		os.Exit(127)
	}
	var ws syscall.WaitStatus
	for {
		_, err := syscall.Wait4(pid, &ws, 0, nil)
		if err != syscall.EINTR {
			break
		}
	}
	if ws.Signaled() {
		os.Exit(128 + int(ws.Signal()))
	}
	os.Exit(ws.ExitStatus())
}
