package setup

import (
	"errors"
	"log/slog"
	"strings"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/render"
	"github.com/nonroot-init/nonroot-init/internal/secrets"
)

// UsageError is a setting that cannot work with this environment, found
// before step 1 changes anything: the init exits 2. (identity's
// UsageError, a NONROOT_USERNAME of uid 0, is the other one.)
type UsageError struct {
	Err error
}

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// planSecrets checks NONROOT_FILE_ENV against the init's environment
// before step 1: a listed NAME with NAME and NAME_FILE both set is a
// usage error, and nothing has changed yet. So is a listed NAME that
// step 2 or 4 always sets (HOME, USER, LOGNAME, a NONROOT_PORTS name)
// with NAME_FILE set: step 6 would find it set.
func planSecrets(cfg *config.Config, env *Env) error {
	if len(cfg.FileEnv) == 0 && !cfg.FileEnvAll {
		return nil
	}
	if _, err := secrets.NewPlanBefore(env, cfg.FileEnv, cfg.FileEnvAll, laterVars(cfg)); err != nil {
		return &UsageError{Err: err}
	}
	return nil
}

// laterVars are the variables steps 2 and 4 always set (secrets.Later).
func laterVars(cfg *config.Config) map[string]string {
	names := make([]string, len(cfg.Ports))
	for i, p := range cfg.Ports {
		names[i] = p.Name
	}
	return secrets.Later(names)
}

// applySecrets is step 6, run after step 4 and before step 5 so that
// templates see the values in .Env: each NAME whose NAME_FILE is set
// gets the file's contents, read with the credentials step 1 left, and
// NAME_FILE is removed. The plan is made again on COMMAND's environment
// as the steps before left it: a NAME that planSecrets could not know
// would be set (an nss_wrapper variable of step 2) now conflicts.
// It returns the Redactor that keeps the values out of every later
// error; STATE_DIR/env, written at step 2, never holds them.
func applySecrets(cfg *config.Config, env *Env, log *slog.Logger) (*secrets.Redactor, error) {
	if len(cfg.FileEnv) == 0 && !cfg.FileEnvAll {
		return nil, nil
	}
	plan, err := secrets.NewPlan(env, cfg.FileEnv, cfg.FileEnvAll)
	if ce := new(secrets.ConflictError); errors.As(err, &ce) {
		return nil, &FailedError{Step: "secrets", Err: errors.New(err.Error() + " (set by an earlier setup step: the identity step's nss_wrapper variables, LD_PRELOAD, NSS_WRAPPER_PASSWD and NSS_WRAPPER_GROUP)")}
	}
	if err != nil {
		return nil, &FailedError{Step: "secrets", Err: err}
	}
	for _, name := range plan.Shadowed {
		log.Warn("NONROOT_FILE_ENV=*: both set, "+name+" kept and "+name+"_FILE left as it is", "name", name, "file_var", name+"_FILE")
	}
	r, err := secrets.Apply(env, plan)
	if err != nil {
		return nil, &FailedError{Step: "secrets", Err: err}
	}
	for _, s := range plan.Sources {
		log.Debug("variable set from a file", "name", s.Name, "file", s.File)
	}
	if names := r.Names(); len(names) > 0 {
		log.Info("variables set from files", "names", strings.Join(names, ","))
	}
	return r, nil
}

// redact takes the values of r out of err's message (see
// secrets.Redactor.String: a message holding one has its detail
// withheld, never spliced). The error returned
// keeps what main decides the exit status by (a *FailedError's Step, an
// *InterruptedError as it is, which holds no value) but not err's chain,
// whose messages still hold the values.
func redact(r *secrets.Redactor, err error) error {
	if err == nil || r.Empty() {
		return err
	}
	if ie := new(InterruptedError); errors.As(err, &ie) {
		return ie
	}
	if fe := new(FailedError); errors.As(err, &fe) && fe == err {
		// Each template problem on its own: one holding a value keeps
		// its file:line, the others stay whole.
		if re := new(render.Error); errors.As(fe.Err, &re) && re == fe.Err {
			problems := make([]error, len(re.Problems))
			for i, p := range re.Problems {
				problems[i] = errors.New(r.String(p.Error()))
			}
			return &FailedError{Step: fe.Step, Err: &render.Error{Problems: problems}}
		}
		return &FailedError{Step: fe.Step, Err: errors.New(r.String(fe.Err.Error()))}
	}
	return errors.New(r.String(err.Error()))
}
