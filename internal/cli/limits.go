package cli

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/tokenscope/tokenscope/internal/limits"
)

// limitFlag is --limit NAME=VALUE, repeatable, over the values of one
// command (internal/limits holds the list; docs/design.md "Limits").
type limitFlag struct{ v *limits.Values }

func (f limitFlag) String() string {
	if f.v == nil || len(*f.v) == 0 {
		return ""
	}
	var out []string
	for n, x := range *f.v {
		l, _ := limits.Lookup(n)
		out = append(out, string(n)+"="+limits.Format(l.Unit, x))
	}
	slices.Sort(out)
	return strings.Join(out, ",")
}

func (f limitFlag) Set(s string) error {
	if *f.v == nil {
		*f.v = limits.Values{}
	}
	err := f.v.Set(s)
	if ue := (*limits.UnknownError)(nil); errors.As(err, &ue) {
		names := limits.Names()
		return fmt.Errorf("unknown limit %q%s (limits: %s; 'tokenscope help limits' lists them with their defaults)",
			ue.Name, didYouMean(ue.Name, names), strings.Join(names, ", "))
	}
	return err
}

func (f limitFlag) Type() string { return "NAME=VALUE" }

// addLimitFlag adds --limit to a command that reads repositories, an
// inventory or job logs. A bad value is a usage error (flagError).
func addLimitFlag(cmd *cobra.Command, v *limits.Values) {
	cmd.Flags().Var(limitFlag{v}, "limit", "raise (or lower) a named limit, e.g. --limit file-size=16MiB (repeatable; 'tokenscope help limits' lists the limits and their defaults)")
}

// newLimitsTopic is 'tokenscope help limits': a help topic, not a
// command (it has no Run), printing the list.
func newLimitsTopic() *cobra.Command {
	return &cobra.Command{
		Use:   "limits",
		Short: "The named limits --limit NAME=VALUE raises, with their defaults",
		Long:  limitsHelp(),
	}
}

// limitsHelp lists the limits as 'tokenscope help limits' prints them.
func limitsHelp() string {
	var b strings.Builder
	b.WriteString(`tokenscope bounds the work a repository, an inventory or a job log may cause.
When real data passes a bound, the message names the limit, the file, and the
flag that raises it: --limit NAME=VALUE (repeatable) on scan, plan, audit,
report, rollout status, trust init, trust check, diagnose and snapshot. Sizes
take 16MiB, 512KiB, 2GiB, 16MB or a number of bytes; counts a number (200000
or 200_000). A value below the default lowers the limit.

Limits --limit changes:

`)
	tw := tabwriter.NewWriter(&b, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "  NAME\tDEFAULT\tBOUNDS")
	var fixed []limits.Limit
	for _, l := range limits.All() {
		if l.Fixed != "" {
			fixed = append(fixed, l)
			continue
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", l.Name, limits.Format(l.Unit, l.Default), l.Bounds)
	}
	tw.Flush()
	b.WriteString("\nFixed limits (--limit refuses them; the reason follows each):\n\n")
	tw = tabwriter.NewWriter(&b, 2, 8, 2, ' ', 0)
	for _, l := range fixed {
		fmt.Fprintf(tw, "  %s\t%s\t%s: %s\n", l.Name, limits.Format(l.Unit, l.Default), l.Bounds, l.Fixed)
	}
	tw.Flush()
	return strings.TrimRight(b.String(), "\n")
}
