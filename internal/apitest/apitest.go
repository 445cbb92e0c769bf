// Package apitest is an HTTP client for tests of the JSON API. Every
// response it receives is checked against docs/openapi.yaml, so the
// published contract and the real server cannot drift apart unnoticed.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/docs"
)

// Client calls the API as one user.
type Client struct {
	t       testing.TB
	baseURL string
	token   string
	router  routers.Router
}

// New returns a client for the server at baseURL authenticating with token
// ("" sends no Authorization header).
func New(t testing.TB, baseURL, token string) *Client {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(docs.OpenAPI)
	require.NoError(t, err, "load openapi.yaml")
	require.NoError(t, doc.Validate(context.Background()), "openapi.yaml is not valid OpenAPI")
	doc.Servers = openapi3.Servers{{URL: baseURL}}
	router, err := legacy.NewRouter(doc)
	require.NoError(t, err)
	return &Client{t: t, baseURL: baseURL, token: token, router: router}
}

// As returns a client for the same server with another token.
func (c *Client) As(token string) *Client {
	other := *c
	other.token = token
	return &other
}

// Response is a fully read response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Decode unmarshals the body into v.
func (r *Response) Decode(t testing.TB, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.Body, v), "body: %s", r.Body)
}

// Map decodes the body as a JSON object.
func (r *Response) Map(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	r.Decode(t, &m)
	return m
}

// Do sends a request. body is a string or []byte sent as is, or any other
// value sent as JSON; header is alternating names and values. The response
// is validated against the OpenAPI document; a mismatch fails the test.
func (c *Client) Do(method, path string, body any, header ...string) *Response {
	c.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		var err error
		raw, err = json.Marshal(b)
		require.NoError(c.t, err)
	}
	req, err := http.NewRequest(method, c.baseURL+path, bytes.NewReader(raw))
	require.NoError(c.t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	out := &Response{Status: resp.StatusCode, Header: resp.Header, Body: got}
	c.validate(req, out)
	return out
}

func (c *Client) validate(req *http.Request, resp *Response) {
	c.t.Helper()
	if !strings.HasPrefix(req.URL.Path, "/api/") {
		return
	}
	route, params, err := c.router.FindRoute(req)
	require.NoError(c.t, err, "%s %s is not in openapi.yaml", req.Method, req.URL.Path)
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route,
		},
		Status: resp.Status,
		Header: resp.Header,
		Options: &openapi3filter.Options{
			IncludeResponseStatus: true,
			MultiError:            true,
		},
	}
	input.SetBodyBytes(resp.Body)
	err = openapi3filter.ValidateResponse(context.Background(), input)
	require.NoError(c.t, err, "%s %s answered %d, which openapi.yaml does not describe:\n%s", req.Method, req.URL.Path, resp.Status, resp.Body)
}
