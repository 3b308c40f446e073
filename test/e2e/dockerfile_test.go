package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// image is what the runtime stage of Dockerfile.example does at build
// time, as far as the e2e root filesystem needs it.
type image struct {
	Copies         [][2]string // COPY SRC DST from the build context
	FixPermissions []string    // the paths of `nonroot-init fix-permissions`
	User           string
	Env            []string // ENV NONROOT_* as K=V, in order
	Entrypoint     []string
	Cmd            []string
}

// parseDockerfile reads the last stage of a Dockerfile written the way
// Dockerfile.example is (one ENV pair per line, JSON-form ENTRYPOINT and
// CMD). It knows only the instructions the e2e root filesystem applies.
func parseDockerfile(text string) (image, error) {
	var img image
	for n, line := range logicalLines(text) {
		instr, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimSpace(rest)
		switch strings.ToUpper(instr) {
		case "FROM":
			img = image{} // a new stage: only the last one is the image
		case "COPY":
			f := strings.Fields(rest)
			if len(f) == 2 && !strings.HasPrefix(f[0], "--") {
				img.Copies = append(img.Copies, [2]string{f[0], f[1]})
			}
		case "RUN":
			if _, args, ok := strings.Cut(rest, "nonroot-init fix-permissions "); ok {
				args, _, _ = strings.Cut(args, "&&")
				img.FixPermissions = strings.Fields(args)
			}
		case "USER":
			img.User = rest
		case "ENV":
			k, v, ok := strings.Cut(rest, "=")
			quoted := len(v) >= 2 && strings.HasPrefix(v, `"`) && strings.HasSuffix(v, `"`)
			if !ok || strings.ContainsAny(k, " \t") || (!quoted && strings.ContainsAny(v, " \t")) {
				return image{}, fmt.Errorf("line %d: ENV %q: want one K=V pair", n+1, rest)
			}
			img.Env = append(img.Env, k+"="+strings.Trim(v, `"`))
		case "ENTRYPOINT":
			if err := json.Unmarshal([]byte(rest), &img.Entrypoint); err != nil {
				return image{}, fmt.Errorf("line %d: ENTRYPOINT must be JSON: %w", n+1, err)
			}
		case "CMD":
			if err := json.Unmarshal([]byte(rest), &img.Cmd); err != nil {
				return image{}, fmt.Errorf("line %d: CMD must be JSON: %w", n+1, err)
			}
		}
	}
	return img, nil
}

// logicalLines joins backslash continuations and drops comments and
// blank lines.
func logicalLines(text string) []string {
	var out []string
	var cur strings.Builder
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") || (line == "" && cur.Len() == 0) {
			continue
		}
		if more, ok := strings.CutSuffix(line, `\`); ok {
			cur.WriteString(more)
			cur.WriteString(" ")
			continue
		}
		cur.WriteString(line)
		out = append(out, strings.Join(strings.Fields(cur.String()), " "))
		cur.Reset()
	}
	return out
}

func TestParseDockerfile(t *testing.T) {
	const text = `FROM golang AS build
ENV NONROOT_IGNORED=1
COPY . .
FROM debian
COPY --from=build /out/x /usr/local/bin/x
COPY templates/a.tmpl /etc/a.tmpl
# a comment
RUN mkdir -p /a /b \
 && /usr/local/bin/nonroot-init fix-permissions /a /b
USER 1001
ENV NONROOT_PORTS=HTTP_PORT=80
ENV NONROOT_X="quoted"
ENTRYPOINT ["/usr/local/bin/nonroot-init", "--"]
CMD ["nginx", "-g", "daemon off;"]
`
	want := image{
		Copies:         [][2]string{{"templates/a.tmpl", "/etc/a.tmpl"}},
		FixPermissions: []string{"/a", "/b"},
		User:           "1001",
		Env:            []string{"NONROOT_PORTS=HTTP_PORT=80", "NONROOT_X=quoted"},
		Entrypoint:     []string{"/usr/local/bin/nonroot-init", "--"},
		Cmd:            []string{"nginx", "-g", "daemon off;"},
	}
	got, err := parseDockerfile(text)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("parseDockerfile(...) = %+v, %v; want %+v, nil", got, err, want)
	}
	for _, bad := range []string{"FROM x\nENV A=1 B=2\n", "FROM x\nCMD nginx\n"} {
		if _, err := parseDockerfile(bad); err == nil {
			t.Errorf("parseDockerfile(%q) succeeded; want an error", bad)
		}
	}
}

// TestDockerfileExample checks that Dockerfile.example has the shape
// SPEC.md shows and the e2e tests apply: the static binary, the
// entrypoint, a non-root USER, fix-permissions at build time.
func TestDockerfileExample(t *testing.T) {
	img := dockerfileImage(t)
	if want := []string{"/usr/local/bin/nonroot-init", "--"}; !reflect.DeepEqual(img.Entrypoint, want) {
		t.Errorf("ENTRYPOINT = %q; want %q", img.Entrypoint, want)
	}
	if img.User == "" || img.User == "0" || img.User == "root" {
		t.Errorf("USER = %q; want a non-root UID", img.User)
	}
	if len(img.FixPermissions) == 0 {
		t.Errorf("no RUN ... nonroot-init fix-permissions step in the runtime stage")
	}
	if len(img.Cmd) == 0 || img.Cmd[0] != "nginx" {
		t.Errorf("CMD = %q; want nginx", img.Cmd)
	}
	text := readRepoFile(t, "Dockerfile.example")
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", `-ldflags "-s -w"`, "COPY --from=build /out/nonroot-init /usr/local/bin/nonroot-init"} {
		if !strings.Contains(text, want) {
			t.Errorf("Dockerfile.example lacks %q", want)
		}
	}
}
