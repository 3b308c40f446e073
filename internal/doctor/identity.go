package doctor

import (
	"errors"
	"fmt"
	"strings"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/host"
	"github.com/nonroot-init/nonroot-init/internal/identity"
	"github.com/nonroot-init/nonroot-init/internal/privileges"
	"github.com/nonroot-init/nonroot-init/internal/procfs"
	"github.com/nonroot-init/nonroot-init/internal/volumes"
)

// installNSSWrapper is the fix for a missing libnss_wrapper.
const installNSSWrapper = "install libnss_wrapper in the image (Debian/Ubuntu: apt-get install libnss-wrapper; Fedora/UBI: dnf install nss_wrapper-libs; Alpine: apk add nss_wrapper) or set NONROOT_NSS_WRAPPER_LIB"

// identitySection reports who COMMAND would run as and how its passwd
// entry would be provided (steps 1 and 2), without writing anything.
func identitySection(cfg *config.Config, h host.Host, creds host.Creds, st procfs.Status, stErr error, sw runAs) (Section, *Identity) {
	s := Section{Name: "identity"}
	env := host.NewEnv(h.Environ)
	o := identity.NewOptions(cfg, h.PasswdFile, h.GroupFile, creds, env.Get)
	o.Command = h.Command
	groups := creds.Groups
	s.Add("uid", "%d", o.UID)
	s.Add("gid", "%d", o.GID)
	// The same list, from the same creds, as the volumes section's
	// identity: the effective GID first, then the supplementary groups.
	s.Add("groups", "%s", volumes.IdentityOf(creds).GroupList())
	j := &Identity{UID: o.UID, GID: o.GID, Groups: orEmpty(groups), PasswdFile: h.PasswdFile, StateDirSkipped: []string{}}

	privilegesFacts(&s, j, st, stErr, sw)

	in := identity.Inspect(o)
	j.PasswdEntry = in.Found
	if in.Found {
		j.Username, j.PasswdLine = ptr(in.Entry.Name), ptr(in.Entry.Line())
	}
	if in.MethodErr == nil && in.Method != "" {
		j.PasswdMethod = ptr(string(in.Method))
	}
	if in.MethodErr == nil && !in.Found && (in.Method == identity.MethodNSSWrapper || in.Method == identity.MethodEtcPasswd) {
		j.ProvidedUsername = ptr(cfg.Username)
	}
	if in.LibErr == nil {
		j.NSSWrapperLib = ptr(in.Lib)
	}
	j.NSSWrapperError = errString(in.LibErr)
	if in.StateErr == nil {
		j.StateDir = ptr(in.StateDir)
	}
	j.StateDirError = errString(in.StateErr)
	for _, err := range in.StateSkipped {
		j.StateDirSkipped = append(j.StateDirSkipped, err.Error())
	}
	j.Home, j.HomeWritable = in.Home, in.HomeErr == nil
	j.PasswdWritable = in.PasswdExposed
	taking := ""
	if in.TakenOK {
		taking = fmt.Sprintf(", taking over the image's entry of that name (uid %d)", in.Taken.UID)
	}
	switch {
	case in.Found && in.EntryHomeErr != nil && in.MethodErr == nil && in.Method == identity.MethodNSSWrapper:
		s.Add("passwd entry", "%s (found in %s); its home cannot be COMMAND's (%v), so COMMAND would get a copy through nss_wrapper with home %s", in.Entry.Line(), h.PasswdFile, in.EntryHomeErr, in.Home)
	case in.Found:
		s.Add("passwd entry", "%s (found in %s)", in.Entry.Line(), h.PasswdFile)
		if in.EntryHomeErr != nil && o.UID != 0 && cfg.Passwd != config.PasswdOff {
			s.Problem(fmt.Sprintf("the passwd entry's home %s cannot be COMMAND's home (%v): programs that read the entry (ssh, Java's user.home, Node's os.userInfo) get it, not HOME", in.Entry.Home, in.EntryHomeErr),
				installNSSWrapper+", so that nonroot-init gives COMMAND a copy of the entry with a writable home (NONROOT_PASSWD=auto or nss-wrapper); or make that home a writable directory")
		}
	case in.MethodErr != nil:
		s.Add("passwd entry", "none for uid %d", o.UID)
	case in.Method == identity.MethodNSSWrapper:
		s.Add("passwd entry", "none for uid %d; would be provided through nss_wrapper as %q%s", o.UID, cfg.Username, taking)
	case in.Method == identity.MethodEtcPasswd:
		s.Add("passwd entry", "none for uid %d; would be appended to %s as %q", o.UID, h.PasswdFile, cfg.Username)
	default:
		s.Add("passwd entry", "none for uid %d; COMMAND would get USER, LOGNAME and HOME only (%s)", o.UID, strings.Join(in.Reasons, "; "))
		// A COMMAND problem below says the same, naming COMMAND.
		if o.UID != 0 && cfg.Passwd != config.PasswdOff && (in.Command == nil || in.Command.Problem == "") {
			s.Problem(fmt.Sprintf("uid %d has no passwd entry and none can be provided: whoami, ssh, git and Python's getpass will fail", o.UID), installNSSWrapper)
		}
	}
	if in.MethodErr != nil {
		fix := "fix the setting named, or set NONROOT_PASSWD=auto"
		if errors.As(in.MethodErr, new(*identity.UsageError)) {
			fix = "set NONROOT_USERNAME to another login name"
		}
		s.Problem(in.MethodErr.Error(), fix)
	}
	if in.LibErr != nil {
		s.Add("nss_wrapper", "not usable: %v", in.LibErr)
	} else {
		s.Add("nss_wrapper", "%s", in.Lib)
	}
	if in.StateErr != nil {
		s.Add("state dir", "none usable: %v", in.StateErr)
	} else {
		s.Add("state dir", "%s", in.StateDir)
	}
	for _, err := range in.StateSkipped {
		var he *identity.HostileDirError
		if errors.As(err, &he) {
			s.Problem(he.What(), he.Fix())
		} else if in.StateErr == nil {
			s.Add("state dir skipped", "%v", err)
		}
	}
	s.Add("home", "%s", in.Home)
	if in.HomeErr != nil {
		s.Problem(fmt.Sprintf("HOME %s is not writable: %v", in.Home, in.HomeErr), "set NONROOT_HOME to a writable directory, such as an emptyDir volume")
	}
	if in.PasswdExposed && o.UID != 0 {
		s.Problem(fmt.Sprintf("%s is writable by uid %d: any process of the container can add a user, a privilege-escalation risk", h.PasswdFile, o.UID),
			"make it read-only in the image (chown root:root, chmod 0644) and let nonroot-init provide the entry through nss_wrapper (NONROOT_PASSWD=auto)")
	}
	if c := in.Command; c != nil {
		j.Command = &Command{Path: c.Path, Program: c.Program, Libc: c.Libc, LookupsFindEntry: c.LookupsFindEntry}
		s.Add("command", "%s", c.Path)
		if c.Program != c.Path {
			s.Add("command program", "%s (its #! interpreter)", c.Program)
		}
		if c.LibcErr != nil {
			s.Add("command libc", "%s: %v", c.Libc, c.LibcErr)
		} else {
			s.Add("command libc", "%s", c.Libc)
		}
		switch {
		case c.LookupsFindEntry == nil:
			s.Add("command lookups", "not known: its C library is not known")
		case *c.LookupsFindEntry:
			s.Add("command lookups", "find the entry for uid %d", o.UID)
		default:
			s.Add("command lookups", "would not find an entry for uid %d", o.UID)
		}
		if c.Problem != "" {
			s.Problem(c.Problem, c.Fix)
		}
	}
	s.Notes = append(s.Notes, "writability judged by the kernel's access check with the effective IDs; nothing was written")
	return s, j
}

// privilegesFacts adds the capability sets and what NONROOT_RUN_AS would do.
func privilegesFacts(s *Section, j *Identity, st procfs.Status, stErr error, sw runAs) {
	if stErr != nil {
		s.Add("capabilities", "unknown: %v", stErr)
	} else {
		j.Capabilities = &Capabilities{Effective: capList(st.CapEff), Permitted: capList(st.CapPrm), Ambient: capList(st.CapAmb), Bounding: capList(st.CapBnd)}
		j.NoNewPrivs = ptr(st.NoNewPrivs)
		s.Add("capabilities effective", "%s", privileges.CapNames(st.CapEff))
		s.Add("capabilities permitted", "%s", privileges.CapNames(st.CapPrm))
		s.Add("capabilities ambient", "%s", privileges.CapNames(st.CapAmb))
		s.Add("capabilities bounding", "%s", privileges.CapNames(st.CapBnd))
		s.Add("no_new_privs", "%t", st.NoNewPrivs)
	}
	switch {
	case sw.err != nil:
		s.Problem(runAsProblem(sw.err))
	case sw.kind == privileges.RunAsRoot:
		s.Notes = append(s.Notes, "running as root: COMMAND would get root; set NONROOT_RUN_AS=UID[:GID] or start the container as a non-root user")
	case sw.plan != nil:
		j.RunAs = &RunAs{UID: sw.target.UID, GID: sw.target.GID, Groups: orEmpty(sw.plan.Groups)}
		untrusted := ""
		if sw.untrusted != "" {
			untrusted = "; " + sw.untrusted
		}
		s.Add("run as", "uid %d gid %d groups %s (facts above are before the switch)%s", sw.target.UID, sw.target.GID, privileges.FormatGroups(sw.plan.Groups), untrusted)
	}
}
