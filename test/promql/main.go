// promql-selectors parses PromQL expressions with Prometheus's own parser and prints, for each,
// the metric names its selectors name, or the parse error.
//
//	echo '["rate(kvsync_reconcile_total[5m])"]' | promql-selectors
//	[{"expr":"rate(kvsync_reconcile_total[5m])","metrics":["kvsync_reconcile_total"]}]
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

type result struct {
	Expr    string   `json:"expr"`
	Error   string   `json:"error,omitempty"`
	Metrics []string `json:"metrics"`
}

func main() {
	var exprs []string
	if err := json.NewDecoder(os.Stdin).Decode(&exprs); err != nil {
		fmt.Fprintf(os.Stderr, "promql-selectors: stdin must be a JSON array of strings: %v\n", err)
		os.Exit(2)
	}
	// Prometheus's defaults, as promtool parses rules without feature flags.
	promql := parser.NewParser(parser.Options{})
	results := make([]result, 0, len(exprs))
	for _, expr := range exprs {
		results = append(results, inspect(promql, expr))
	}
	if err := json.NewEncoder(os.Stdout).Encode(results); err != nil {
		fmt.Fprintf(os.Stderr, "promql-selectors: %v\n", err)
		os.Exit(1)
	}
}

func inspect(promql parser.Parser, expr string) result {
	parsed, err := promql.ParseExpr(expr)
	if err != nil {
		return result{Expr: expr, Error: err.Error(), Metrics: []string{}}
	}
	names := map[string]bool{}
	parser.Inspect(parsed, func(node parser.Node, _ []parser.Node) error {
		if selector, ok := node.(*parser.VectorSelector); ok {
			names[selectorName(selector)] = true
		}
		return nil
	})
	metrics := make([]string, 0, len(names))
	for name := range names {
		metrics = append(metrics, name)
	}
	sort.Strings(metrics)
	return result{Expr: expr, Metrics: metrics}
}

// The metric name, from the selector or its __name__ matcher ("" when it names none exactly).
func selectorName(selector *parser.VectorSelector) string {
	if selector.Name != "" {
		return selector.Name
	}
	for _, matcher := range selector.LabelMatchers {
		if matcher.Name == labels.MetricName && matcher.Type == labels.MatchEqual {
			return matcher.Value
		}
	}
	return ""
}
