package supervisor

// Programs returns the files the kernel loads to run path, as
// checkInterpreter follows them: path itself, then each #! interpreter in
// turn (fs/binfmt_script.c). The last one is the ELF program whose C
// library decides whether LD_PRELOAD works (the identity step's
// nss_wrapper).
func Programs(path string) []string {
	chain := []string{path}
	for depth := 0; depth <= maxBinfmtDepth; depth++ {
		interp, ok, err := readShebang(path)
		if err != nil || !ok {
			break
		}
		chain = append(chain, interp)
		path = interp
	}
	return chain
}
