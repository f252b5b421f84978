package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/isobar-dev/isobar/controlplane/status"
	"github.com/isobar-dev/isobar/controlplane/xds"
	"github.com/isobar-dev/isobar/sim/router"
)

func newRouteCmd() *cobra.Command {
	var in inputFlags
	var xdsFile, url, method, sni, clientIP, requestsFile, output string
	var noClientCert bool
	var headers []string
	cmd := &cobra.Command{
		Use:   "route (-f PATH... | --xds FILE) (--url URL | --requests FILE)",
		Short: "Explain where a request goes: listener, filter chain, virtual host, route, backends",
		Long: `route evaluates a request the way Envoy would, against the configuration
translated from -f manifests or read from --xds (a translate document or an
Envoy admin /config_dump), and explains each step: which route matched, which
object it came from, which routes before it were rejected and why, and the
full weighted split of backends. It shows the header changes of the route
configuration, virtual host, route and weighted clusters (request headers
the upstream receives, response headers), in Envoy's order, against the
request's own headers (-H).

With --client-ip ADDR, the request comes from that address, and the IP
filters of HTTPProxy ipAllowPolicy and ipDenyPolicy (Envoy's RBAC filter)
are evaluated: a denied request gets 403. Peer rules match ADDR; Remote
rules match the address X-Forwarded-For gives (-H 'X-Forwarded-For: ...')
with the listener's trusted hops (--num-trusted-hops), else ADDR.

An https request to a host that asks for client certificates
(clientValidation) is taken to present one that validates; with
--without-client-cert it presents none, and a host requiring one fails
the handshake.

With --requests FILE (a YAML list of {name, url, method, headers, sni,
clientIP, withoutClientCertificate, expect}) it checks every request's expectations and prints the
routes no request exercised, per source object.

Exit codes: 0 routed (every expectation met), 1 not routed or an expectation
failed, 2 bad input.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			res, findings, err := routeResources(cmd, &in, xdsFile)
			if err != nil {
				return err
			}
			rt := router.New(res, router.Options{})
			if requestsFile != "" {
				return runRequests(cmd.OutOrStdout(), rt, res, requestsFile, output)
			}
			if url == "" {
				return exitWith(exitBadInput, fmt.Errorf("give --url URL or --requests FILE"))
			}
			hs, err := parseHeaders(headers)
			if err != nil {
				return err
			}
			if _, err := netip.ParseAddr(clientIP); clientIP != "" && err != nil {
				return exitWith(exitBadInput, fmt.Errorf("--client-ip %q is not an IP address", clientIP))
			}
			result := rt.Evaluate(router.Request{URL: url, Method: method, Headers: hs, SNI: sni, ClientIP: clientIP, WithoutClientCertificate: noClientCert})
			annotate(&result, findings)
			if err := writeResult(cmd.OutOrStdout(), result, output); err != nil {
				return err
			}
			if !result.Routed {
				return exitWith(exitFindings, nil)
			}
			return nil
		},
	}
	in.register(cmd)
	cmd.Flags().StringVar(&xdsFile, "xds", "", "read the configuration from a translate document or an Envoy config dump instead of -f")
	cmd.Flags().StringVar(&url, "url", "", "the request URL: http(s)://host[:port]/path?query")
	cmd.Flags().StringVarP(&method, "request", "X", "GET", "the request method")
	cmd.Flags().StringArrayVarP(&headers, "header", "H", nil, "a request header 'Name: value' (repeatable; Host sets :authority)")
	cmd.Flags().StringVar(&sni, "sni", "", "the TLS server name (default: the URL's host for https)")
	cmd.Flags().BoolVar(&noClientCert, "without-client-cert", false, "the client presents no TLS certificate (a host requiring one fails the handshake); by default a client asked for one presents one that validates")
	cmd.Flags().StringVar(&clientIP, "client-ip", "", "the client's address, for HTTPProxy IP filters (default: none, filters not evaluated)")
	cmd.Flags().StringVar(&requestsFile, "requests", "", "a YAML list of requests with expectations")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

// routeResources returns the resources to evaluate against: --xds, or the
// translation of -f.
func routeResources(cmd *cobra.Command, in *inputFlags, xdsFile string) (*xds.Resources, []status.Finding, error) {
	if xdsFile != "" {
		if len(in.files) > 0 {
			return nil, nil, exitWith(exitBadInput, fmt.Errorf("give either -f or --xds, not both"))
		}
		data, err := readFileOrStdin(cmd.InOrStdin(), xdsFile)
		if err != nil {
			return nil, nil, exitWith(exitBadInput, err)
		}
		res, err := xds.Parse(data)
		if err != nil {
			return nil, nil, exitWith(exitBadInput, fmt.Errorf("%s: %w", xdsFile, err))
		}
		return res, nil, nil
	}
	result, problems, err := in.compileInputs(cmd)
	if err != nil {
		return nil, nil, err
	}
	if len(problems) > 0 {
		return nil, nil, exitWith(exitBadInput, unreadable(problems))
	}
	return result.Resources, result.Findings, nil
}

// annotate adds to the trace the findings about the host and the object
// that answered: the claims the oldest-object rule rejected, shadowed
// routes. They are not in the xDS, so only -f input can show them.
func annotate(r *router.Result, findings []status.Finding) {
	if r.Route == nil || r.Route.Source == "" {
		return
	}
	host := fmt.Sprintf("host %q", r.VirtualHost)
	for _, f := range findings {
		if !strings.Contains(f.Message, host) {
			continue
		}
		for _, o := range f.Objects {
			if o.String() == r.Route.Source {
				r.Trace = append(r.Trace, fmt.Sprintf("%s: %s", f.Code, f.Message))
				break
			}
		}
	}
}

func readFileOrStdin(stdin io.Reader, path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(stdin)
	}
	return os.ReadFile(path)
}

// parseHeaders reads "Name: value" flags.
func parseHeaders(hs []string) (map[string]string, error) {
	out := map[string]string{}
	for _, h := range hs {
		k, v, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, exitWith(exitBadInput, fmt.Errorf("header %q: want 'Name: value'", h))
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out, nil
}

func writeResult(w io.Writer, r router.Result, output string) error {
	switch output {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case "text", "":
		router.Format(w, r)
		return nil
	}
	return exitWith(exitBadInput, fmt.Errorf("unknown output format %q: use text or json", output))
}

// requestsReport is what `route --requests -o json` prints.
type requestsReport struct {
	Results  []caseResult            `json:"results"`
	Coverage []router.SourceCoverage `json:"coverage"`
	Passed   int                     `json:"passed"`
	Failed   int                     `json:"failed"`
}

type caseResult struct {
	Name     string        `json:"name,omitempty"`
	Pass     bool          `json:"pass"`
	Failures []string      `json:"failures,omitempty"`
	Result   router.Result `json:"result"`
}

func runRequests(w io.Writer, rt *router.Router, res *xds.Resources, file, output string) error {
	cases, err := router.LoadCases(file)
	if err != nil {
		return exitWith(exitBadInput, err)
	}
	var rep requestsReport
	var results []router.Result
	for _, c := range cases {
		r := rt.Evaluate(c.Request())
		results = append(results, r)
		fails := router.Check(c, r)
		rep.Results = append(rep.Results, caseResult{Name: c.Name, Pass: len(fails) == 0, Failures: fails, Result: r})
		if len(fails) == 0 {
			rep.Passed++
		} else {
			rep.Failed++
		}
	}
	rep.Coverage = router.BySource(router.Coverage(res, results))
	if output == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		writeRequestsText(w, rep)
	}
	if rep.Failed > 0 {
		return exitWith(exitFindings, nil)
	}
	return nil
}

func writeRequestsText(w io.Writer, rep requestsReport) {
	for _, c := range rep.Results {
		mark := "PASS"
		if !c.Pass {
			mark = "FAIL"
		}
		name := c.Name
		if name == "" {
			name = c.Result.Request.Method + " " + c.Result.Request.URL
		}
		fmt.Fprintf(w, "%s  %s\n", mark, name)
		for _, f := range c.Failures {
			fmt.Fprintf(w, "      %s\n", f)
		}
		if !c.Pass {
			for _, t := range c.Result.Trace {
				fmt.Fprintf(w, "      | %s\n", t)
			}
		}
	}
	fmt.Fprintln(w, "\ncoverage by source object:")
	for _, s := range rep.Coverage {
		fmt.Fprintf(w, "  %-50s %d/%d routes exercised\n", s.Source, s.Hit, s.Routes)
		for _, m := range s.Missing {
			fmt.Fprintf(w, "      not exercised: %s\n", m)
		}
	}
	fmt.Fprintf(w, "\n%d passed, %d failed\n", rep.Passed, rep.Failed)
}
