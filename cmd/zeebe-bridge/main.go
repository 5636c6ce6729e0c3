// Command zeebe-bridge is the operator's tool for a deployed bridge: queue
// and DLQ depths and the poller's last run, what is in the dead-letter
// queues (decoded), redriving the outcomes DLQ, handing a dead-lettered job
// back to Zeebe, and rotating the job token keyring.
//
//	zeebe-bridge status            --tf-dir terraform/examples/trip-booking
//	zeebe-bridge dlq list          --tf-dir ... [--queue zeebe_book-hotel_dlq] [--json]
//	zeebe-bridge dlq show ID       --tf-dir ...
//	zeebe-bridge dlq redrive       --tf-dir ...
//	zeebe-bridge dlq return ID     --tf-dir ... [--incident "why"]
//	zeebe-bridge rotate-key        --tf-dir ... [--max-token-lifetime 168h]
//
// Names come from the Terraform root's output zeebe_bridge (--tf-dir runs
// terraform output there; --outputs reads a saved `terraform output -json`).
// AWS access is the SDK's default chain (AWS_PROFILE, AWS_REGION,
// AWS_ENDPOINT_URL for LocalStack, ...).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/operator"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage: zeebe-bridge <command> [flags]

commands:
  status                  queue and DLQ depths; when the poller last ran and what it published
  dlq list                what is in the bridge's dead-letter queues, decoded
  dlq show MESSAGE-ID     one dead-lettered message, whole
  dlq redrive             move the outcomes DLQ back to the outcomes queue (the fulfiller applies them)
  dlq return MESSAGE-ID   hand a dead-lettered job back to Zeebe (retries unchanged, or --incident)
  rotate-key              new current job token key; old ones stay while their tokens can be in use

Every command takes --tf-dir DIR or --outputs FILE (where the names come
from), --json, and --help.
`

// command is one subcommand: its flags and what it does.
type command struct {
	name, args, help string
	flags            func(*flag.FlagSet)
	run              func(ctx context.Context, op *operator.Operator, fs *flag.FlagSet, out output) error
}

type output struct {
	w    io.Writer
	json bool
}

func (o output) print(v any, text func(w io.Writer)) error {
	if o.json {
		enc := json.NewEncoder(o.w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	tw := tabwriter.NewWriter(o.w, 0, 4, 2, ' ', 0)
	text(tw)
	return tw.Flush()
}

func commands() []command {
	var queue, incident string
	var maxTokenLifetime time.Duration
	return []command{
		{name: "status", help: "Shows every queue's depth (visible, in flight, delayed) and the poller's last finished run.",
			run: func(ctx context.Context, op *operator.Operator, _ *flag.FlagSet, out output) error {
				st, err := op.Status(ctx)
				if err != nil {
					return err
				}
				return out.print(st, func(w io.Writer) {
					fmt.Fprintln(w, "QUEUE\tKIND\tVISIBLE\tIN FLIGHT\tDELAYED")
					for _, q := range st.Queues {
						fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%d\n", q.Name, q.Kind, q.Visible, q.InFlight, q.Delayed)
					}
					if st.LastPoller == nil {
						fmt.Fprintln(w, "\npoller: no finished run in the last 24 hours")
						return
					}
					p := st.LastPoller
					fmt.Fprintf(w, "\npoller: last run finished %s (%s ago): %d activated, %d published, %d publish failures, %d rejected\n",
						p.At.Format(time.RFC3339), time.Since(p.At).Round(time.Second), p.Activated, p.Published, p.Failed, p.Rejected)
				})
			}},
		{name: "dlq list", help: "Lists what is in the bridge's dead-letter queues, decoded into jobs and outcomes with their keys; messages stay where they are.",
			flags: func(fs *flag.FlagSet) {
				fs.StringVar(&queue, "queue", "", "only this DLQ (its name, e.g. zeebe_jobs2complete_dlq)")
			},
			run: func(ctx context.Context, op *operator.Operator, _ *flag.FlagSet, out output) error {
				ls, err := op.List(ctx, queue)
				if err != nil {
					return err
				}
				if ls == nil {
					ls = []operator.Letter{}
				}
				return out.print(ls, func(w io.Writer) {
					fmt.Fprintln(w, "QUEUE\tMESSAGE ID\tKIND\tJOB KEY\tINSTANCE\tWHAT\tREASON")
					for _, l := range ls {
						key, pik, what := summary(l)
						fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", l.Queue, l.MessageID, l.Kind, key, pik, what, shorten(l.Reason, 80))
					}
					fmt.Fprintf(w, "%d message(s)\n", len(ls))
				})
			}},
		{name: "dlq show", args: "MESSAGE-ID", help: "Shows one dead-lettered message, decoded, with its reason and receive count.",
			run: func(ctx context.Context, op *operator.Operator, fs *flag.FlagSet, out output) error {
				id, err := oneArg(fs, "MESSAGE-ID")
				if err != nil {
					return err
				}
				l, err := op.Show(ctx, id)
				if err != nil {
					return err
				}
				out.json = true // a message is shown whole
				return out.print(l, nil)
			}},
		{name: "dlq redrive", help: "Moves every outcome in the outcomes DLQ back to the outcomes queue, where the fulfiller applies it (an SQS message move task).",
			run: func(ctx context.Context, op *operator.Operator, _ *flag.FlagSet, out output) error {
				res, err := op.Redrive(ctx)
				if err != nil {
					return err
				}
				return out.print(res, func(w io.Writer) {
					fmt.Fprintf(w, "moved %d outcome(s) from the outcomes DLQ back to the outcomes queue (task %s: %s)\n", res.Moved, res.Status, res.TaskHandle)
					if res.Failure != "" {
						fmt.Fprintf(w, "the task failed: %s\n", res.Failure)
					}
				})
			}},
		{name: "dlq return", args: "MESSAGE-ID", help: "Hands a dead-lettered job back to Zeebe: a fail outcome with its retries unchanged (or, with --incident, retries 0 and that message), sealed with the job's token and applied by the fulfiller; the message leaves the DLQ.",
			flags: func(fs *flag.FlagSet) {
				fs.StringVar(&incident, "incident", "", "fail the job with retries 0 and this message, which Operate shows on the incident")
			},
			run: func(ctx context.Context, op *operator.Operator, fs *flag.FlagSet, out output) error {
				id, err := oneArg(fs, "MESSAGE-ID")
				if err != nil {
					return err
				}
				o, err := op.Return(ctx, id, incident)
				if err != nil {
					return err
				}
				return out.print(o, func(w io.Writer) {
					fmt.Fprintf(w, "job %d (instance %d) handed back: fail with retries %d: %s\n", o.JobKey, o.ProcessInstanceKey, o.Retries, o.ErrorMessage)
				})
			}},
		{name: "rotate-key", help: "Draws a new current job token key; the current one stays valid as a previous key, and previous keys stay until every token they signed has expired (--max-token-lifetime after their retirement, plus the keyring's 5-minute cache), so jobs in flight still complete.",
			flags: func(fs *flag.FlagSet) {
				fs.DurationVar(&maxTokenLifetime, "max-token-lifetime", 0, "the longest a job token is in use: the longest job timeout (job_timeout, task headers timeout) or heartbeat-extended lease of asynchronous completion (default: the bridge's max_token_lifetime_seconds output, else 168h)")
			},
			run: func(ctx context.Context, op *operator.Operator, _ *flag.FlagSet, out output) error {
				res, err := op.RotateKey(ctx, maxTokenLifetime)
				if err != nil {
					return err
				}
				return out.print(res, func(w io.Writer) {
					fmt.Fprintf(w, "the job token keyring's current key is now %s; the poller and fulfiller read it within 5 minutes (the fulfiller at once on first sight)\n", res.CurrentKeyID)
					for _, k := range res.Previous {
						fmt.Fprintf(w, "kept %s, retired %s\n", k.ID, k.RetiredAt.Format(time.RFC3339))
					}
					for _, id := range res.Pruned {
						fmt.Fprintf(w, "dropped %s, retired more than %s (the longest token lifetime) and the keyring's cache time ago\n", id, res.MaxTokenLifetime)
					}
				})
			}},
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var cmd *command
	rest := args
	for _, c := range commands() {
		words := strings.Fields(c.name)
		if len(args) >= len(words) && strings.Join(args[:len(words)], " ") == c.name {
			c := c
			cmd, rest = &c, args[len(words):]
			break
		}
	}
	if cmd == nil {
		fmt.Fprintf(stderr, "zeebe-bridge: unknown command %q\n\n%s", strings.Join(args, " "), usage)
		return 2
	}
	fs := flag.NewFlagSet("zeebe-bridge "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	tfDir := fs.String("tf-dir", os.Getenv("ZEEBE_BRIDGE_TF_DIR"), "Terraform root whose output zeebe_bridge names the bridge's resources (ZEEBE_BRIDGE_TF_DIR)")
	outputs := fs.String("outputs", os.Getenv("ZEEBE_BRIDGE_OUTPUTS"), "file with the JSON of 'terraform output -json' in that root, instead of --tf-dir (ZEEBE_BRIDGE_OUTPUTS)")
	asJSON := fs.Bool("json", false, "print JSON")
	if cmd.flags != nil {
		cmd.flags(fs)
	}
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: zeebe-bridge %s [flags]\n\n%s\n\nflags:\n", strings.TrimSpace(cmd.name+" "+cmd.args), cmd.help)
		fs.PrintDefaults()
	}
	if err := fs.Parse(interleave(rest)); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	outs, err := operator.ReadOutputs(ctx, *tfDir, *outputs)
	if err != nil {
		fmt.Fprintln(stderr, "zeebe-bridge:", err)
		return 1
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "zeebe-bridge: AWS configuration:", err)
		return 1
	}
	op := &operator.Operator{Out: outs, Clients: operator.NewClients(awsCfg, outs.PayloadBucket)}
	if err := cmd.run(ctx, op, fs, output{w: stdout, json: *asJSON}); err != nil {
		fmt.Fprintln(stderr, "zeebe-bridge:", err)
		return 1
	}
	return 0
}

// interleave puts flags before positional arguments, so that both
// "dlq show ID --json" and "dlq show --json ID" work.
func interleave(args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-") {
			flags = append(flags, a)
			if !strings.Contains(a, "=") && i+1 < len(args) && takesValue(a) {
				flags = append(flags, args[i+1])
				i++
			}
			continue
		}
		pos = append(pos, a)
	}
	return append(flags, pos...)
}

func takesValue(flagArg string) bool {
	switch strings.TrimLeft(flagArg, "-") {
	case "json", "h", "help":
		return false
	}
	return true
}

func oneArg(fs *flag.FlagSet, name string) (string, error) {
	if fs.NArg() != 1 {
		return "", fmt.Errorf("want one %s, got %d arguments", name, fs.NArg())
	}
	return fs.Arg(0), nil
}

func summary(l operator.Letter) (key, pik, what string) {
	switch {
	case l.Job != nil:
		return fmt.Sprint(l.Job.Key), fmt.Sprint(l.Job.ProcessInstanceKey), fmt.Sprintf("%s %s retries=%d", l.Job.Identifier(), l.Job.ElementID, l.Job.Retries)
	case l.Outcome != nil:
		return fmt.Sprint(l.Outcome.JobKey), fmt.Sprint(l.Outcome.ProcessInstanceKey), string(l.Outcome.Outcome)
	}
	return "-", "-", shorten(l.Error, 60)
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}
