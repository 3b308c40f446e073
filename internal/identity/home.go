package identity

// homeFacts are what the HOME rule depends on.
type homeFacts struct {
	setting string // NONROOT_HOME, empty when unset
	env     string // $HOME as COMMAND would inherit it
	envOK   bool   // $HOME is a directory our effective IDs may write
	entry   string // the home of the UID's passwd entry, empty without one
	entryOK bool   // the same for it
	uid     int
}

// homePlan is where HOME goes, before anything is created.
type homePlan struct {
	path string // HOME; with inState, the fallback when STATE_DIR/home cannot be had
	// setting: NONROOT_HOME, created if missing.
	setting bool
	// inState: STATE_DIR/home, when a state directory is usable.
	inState bool
}

// planHome is the HOME rule of SPEC.md (step 2), the only place it is
// written; Provide applies it and Inspect reports it. NONROOT_HOME if
// set, else $HOME if it is writable and not /, else the home of the
// UID's existing entry (writable and not /) as a login would pick (root
// started without $HOME gets /root, not a directory in a shared /tmp),
// else STATE_DIR/home. Root never gets STATE_DIR/home: a root-owned
// directory in a shared /tmp would only lock a later non-root process
// out of it. With none usable HOME keeps $HOME (or /), and the caller
// warns.
func planHome(f homeFacts) homePlan {
	switch {
	case f.setting != "":
		return homePlan{path: f.setting, setting: true}
	case usableEnvHome(f.env) && f.envOK:
		return homePlan{path: f.env}
	case usableEnvHome(f.entry) && f.entryOK:
		return homePlan{path: f.entry}
	}
	fallback := "/"
	if usableEnvHome(f.env) {
		fallback = f.env
	}
	return homePlan{path: fallback, inState: f.uid != 0}
}

// gatherHome reads the facts planHome needs: the settings, $HOME from
// COMMAND's environment so far, and whether each candidate is writable.
func gatherHome(o Options, entryHome string) homeFacts {
	f := homeFacts{setting: o.Home, entry: entryHome, uid: o.UID}
	if o.Home != "" {
		return f
	}
	f.env, _ = o.Getenv("HOME")
	f.envOK = usableEnvHome(f.env) && writableDir(f.env) == nil
	f.entryOK = usableEnvHome(entryHome) && writableDir(entryHome) == nil
	return f
}
