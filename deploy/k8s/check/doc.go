// Package check holds the strict test of deploy/k8s: it renders the
// kustomization as `kubectl apply -k` would and decodes every object with
// the real Kubernetes API types, refusing any field they do not have.
//
// It is a module of its own so that k8s.io/api and its dependencies stay
// out of Augur's go.mod; `make test` and `make lint` run it too. It needs
// nothing of Augur's code: the settings it checks against (SHUTDOWN_TIMEOUT,
// METRICS_ADDR, HTTP_ADDR) are read from the rendered ConfigMap, and the
// image's user from the Dockerfile.
package check
