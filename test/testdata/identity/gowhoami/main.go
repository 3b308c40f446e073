// Command gowhoami is a statically linked Go program (built with
// CGO_ENABLED=0) that looks its user up the way Go programs do without
// libc: os/user reads /etc/passwd itself and, when the UID is not there,
// falls back to $USER and $HOME. nss_wrapper cannot help such a program,
// so USER and HOME must be right.
package main

import (
	"fmt"
	"os"
	"os/user"
)

func main() {
	u, err := user.Current()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gowhoami:", err)
		os.Exit(1)
	}
	home, err := os.UserHomeDir()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gowhoami:", err)
		os.Exit(1)
	}
	fmt.Printf("user=%s uid=%s home=%s\n", u.Username, u.Uid, home)
}
