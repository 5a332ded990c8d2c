// gitops-health reads one Kubernetes object as JSON on stdin and prints, as JSON, what a GitOps
// tool makes of it:
//
//	gitops-health kstatus        the kstatus result (Flux, kpt): {"status": "Current", "message": ...}
//	gitops-health lua SCRIPT     the value an Argo CD Lua script (health.lua, discovery.lua,
//	                             action.lua) returns for the object, run as Argo CD runs it
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "gitops-health:", err)
		os.Exit(1)
	}
}

func run(args []string, in io.Reader, out io.Writer) error {
	object := map[string]interface{}{}
	decoder := json.NewDecoder(in)
	decoder.UseNumber()
	if err := decoder.Decode(&object); err != nil {
		return fmt.Errorf("reading the object from stdin: %w", err)
	}
	var result interface{}
	var err error
	switch {
	case len(args) == 1 && args[0] == "kstatus":
		result, err = kstatus(object)
	case len(args) == 2 && args[0] == "lua":
		result, err = runLuaFile(args[1], object)
	default:
		return fmt.Errorf("usage: gitops-health kstatus | gitops-health lua SCRIPT  (object JSON on stdin)")
	}
	if err != nil {
		return err
	}
	return json.NewEncoder(out).Encode(result)
}

func kstatus(object map[string]interface{}) (interface{}, error) {
	// unstructured's nested getters expect int64 numbers, as the API machinery decodes them.
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(mustJSON(object)); err != nil {
		return nil, err
	}
	res, err := status.Compute(u)
	if err != nil {
		return nil, err
	}
	return map[string]string{"status": res.Status.String(), "message": res.Message}, nil
}

func mustJSON(value interface{}) []byte {
	data, err := json.Marshal(value)
	if err != nil {
		panic(err)
	}
	return data
}
