package diff

import (
	"fmt"
	"io"
	"strings"
)

// WriteText writes the report for a terminal.
func WriteText(w io.Writer, r *Report) {
	if r.Empty() {
		fmt.Fprintf(w, "no change (%d requests compared)\n", r.Probes)
		return
	}
	section := func(title string, n int) bool {
		if n == 0 {
			return false
		}
		fmt.Fprintf(w, "\n%s (%d)\n", title, n)
		return true
	}
	if section("Requests whose answer changes", len(r.Requests)) {
		for _, q := range r.Requests {
			mark := ""
			if q.Unrouted {
				mark = "  [UNROUTED]"
			}
			fmt.Fprintf(w, "  %s %s%s\n      before: %s\n      after:  %s\n", q.Request.Method, describe(q.Request), mark, q.Before, q.After)
		}
	}
	if section("Status changes", len(r.Statuses)) {
		for _, s := range r.Statuses {
			fmt.Fprintf(w, "  %s: %s → %s\n", s.Ref, orNone(string(s.Before)), orNone(string(s.After)))
			for _, e := range s.Errors {
				fmt.Fprintf(w, "      %s\n", e)
			}
		}
	}
	if section("New findings", len(r.Findings.Added)) {
		for _, f := range r.Findings.Added {
			fmt.Fprintf(w, "  %s %s: %s\n", f.Severity, f.Code, f.Message)
		}
	}
	if section("Resolved findings", len(r.Findings.Removed)) {
		for _, f := range r.Findings.Removed {
			fmt.Fprintf(w, "  %s %s: %s\n", f.Severity, f.Code, f.Message)
		}
	}
	if section("Objects", len(r.Objects)) {
		for _, o := range r.Objects {
			fmt.Fprintf(w, "  %s %s\n", o.Change, o.Ref)
			for _, f := range o.Fields {
				fmt.Fprintf(w, "      %s\n", f)
			}
		}
	}
	if section("xDS resources", len(r.Resources)) {
		for _, c := range r.Resources {
			fmt.Fprintf(w, "  %s %s %s\n", c.Change, c.Type, c.Name)
			for _, f := range c.Fields {
				fmt.Fprintf(w, "      %s\n", f)
			}
		}
	}
	fmt.Fprintf(w, "\n%d requests compared, %d change", r.Probes, len(r.Requests))
	if len(r.Dangers) > 0 {
		fmt.Fprintf(w, "; DANGEROUS: %s", strings.Join(r.Dangers, "; "))
	}
	fmt.Fprintln(w)
}

// WriteMarkdown writes the report as a pull-request comment.
func WriteMarkdown(w io.Writer, r *Report) {
	fmt.Fprintln(w, "### Isobar: what this change does to routing")
	fmt.Fprintln(w)
	if r.Empty() {
		fmt.Fprintf(w, "No change: %d requests compared, all answered the same.\n", r.Probes)
		return
	}
	if len(r.Dangers) > 0 {
		fmt.Fprintln(w, "> [!CAUTION]")
		for _, d := range r.Dangers {
			fmt.Fprintf(w, "> - %s\n", escapeMD(d))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "**%d of %d requests change**, %d objects change, %d statuses change, %d xDS resources change.\n\n",
		len(r.Requests), r.Probes, len(r.Objects), len(r.Statuses), len(r.Resources))
	if len(r.Requests) > 0 {
		fmt.Fprintln(w, "| request | before | after |")
		fmt.Fprintln(w, "|---|---|---|")
		for _, q := range r.Requests {
			fmt.Fprintf(w, "| `%s %s` | %s | %s |\n", q.Request.Method, describe(q.Request), escapeMD(q.Before.String()), escapeMD(q.After.String()))
		}
		fmt.Fprintln(w)
	}
	if len(r.Statuses) > 0 {
		fmt.Fprintln(w, "| object | before | after | errors |")
		fmt.Fprintln(w, "|---|---|---|---|")
		for _, s := range r.Statuses {
			fmt.Fprintf(w, "| %s | %s | %s | %s |\n", s.Ref, orNone(string(s.Before)), orNone(string(s.After)), escapeMD(strings.Join(s.Errors, "; ")))
		}
		fmt.Fprintln(w)
	}
	if len(r.Findings.Added) > 0 {
		fmt.Fprintln(w, "New findings:")
		for _, f := range r.Findings.Added {
			fmt.Fprintf(w, "- **%s** `%s`: %s\n", f.Severity, f.Code, escapeMD(f.Message))
		}
		fmt.Fprintln(w)
	}
	if len(r.Objects)+len(r.Resources) > 0 {
		fmt.Fprintln(w, "<details><summary>Objects and xDS resources</summary>")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "```")
		for _, o := range r.Objects {
			fmt.Fprintf(w, "%s %s\n", o.Change, o.Ref)
			for _, f := range o.Fields {
				fmt.Fprintf(w, "    %s\n", f)
			}
		}
		for _, c := range r.Resources {
			fmt.Fprintf(w, "%s %s %s\n", c.Change, c.Type, c.Name)
			for _, f := range c.Fields {
				fmt.Fprintf(w, "    %s\n", f)
			}
		}
		fmt.Fprintln(w, "```")
		fmt.Fprintln(w, "</details>")
	}
}

func describe(q Request) string {
	s := q.URL
	for _, k := range sortedKeys(q.Headers) {
		s += fmt.Sprintf(" -H '%s: %s'", k, q.Headers[k])
	}
	if q.ClientIP != "" {
		s += " --client-ip " + q.ClientIP
	}
	return s
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sortStrings(out)
	return out
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func escapeMD(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
