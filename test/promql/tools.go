//go:build tools

// The commands this module exists to build; the build tag keeps this file out of every build.
package main

import (
	_ "github.com/prometheus/prometheus/cmd/promtool"
)
