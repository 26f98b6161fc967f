package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

var registerDecoders sync.Once

// openAPI loads api/openapi.yaml, checks it is a valid OpenAPI 3 document,
// and returns a router over its paths.
func openAPI(t *testing.T) routers.Router {
	t.Helper()
	registerDecoders.Do(func() {
		for _, v := range []string{"v72", "v80", "v81"} {
			openapi3filter.RegisterBodyDecoder("application/vnd.soa."+v+"+json", openapi3filter.JSONBodyDecoder)
		}
	})
	doc, err := openapi3.NewLoader().LoadFromFile("../../api/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("api/openapi.yaml is not a valid OpenAPI document: %v", err)
	}
	// The requests checked go to a test server, not to the document's
	// servers: match their paths alone.
	doc.Servers = nil
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return router
}

// conforms reports whether a response is one the document describes: a
// documented status, and for JSON a body that fits its strict schema. XML
// bodies are checked by the handlers' own tests (kin-openapi decodes no
// XML). A method the document does not list (answered 405) is skipped.
func conforms(router routers.Router) func(*http.Request, int, http.Header, []byte) error {
	return func(req *http.Request, status int, header http.Header, body []byte) error {
		route, params, err := router.FindRoute(req)
		if errors.Is(err, routers.ErrMethodNotAllowed) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("the OpenAPI document has no route for it: %w", err)
		}
		return openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
			Status:                 status,
			Header:                 header,
			Body:                   io.NopCloser(bytes.NewReader(body)),
			Options: &openapi3filter.Options{IncludeResponseStatus: true,
				ExcludeResponseBody: strings.HasSuffix(header.Get("Content-Type"), "xml")},
		})
	}
}

func TestOpenAPICheckCatchesResponsesItDoesNotDescribe(t *testing.T) {
	check := conforms(openAPI(t))
	req := httptest.NewRequest("GET", "/v1/psd2/challenges/abc", nil)
	json := http.Header{"Content-Type": {"application/json"}}
	good := `{"id":"abc","status":"pending","iban":"DE02120300000000202051","tpp_name":"A","person_id":null,"redirect_url":null,"created_at":"2030-01-01T12:00:00Z","expires_at":"2030-01-01T12:05:00Z"}`
	if err := check(req, 200, json, []byte(good)); err != nil {
		t.Fatalf("a valid challenge was refused: %v", err)
	}
	for name, bad := range map[string]string{
		"an extra field":         strings.Replace(good, `"id":"abc"`, `"id":"abc","secret":"x"`, 1),
		"a missing field":        strings.Replace(good, `"person_id":null,`, ``, 1),
		"an unknown status":      strings.Replace(good, `"pending"`, `"limbo"`, 1),
		"a null that may not be": strings.Replace(good, `"tpp_name":"A"`, `"tpp_name":null`, 1),
	} {
		if err := check(req, 200, json, []byte(bad)); err == nil {
			t.Errorf("a response with %s passed", name)
		}
	}
	if err := check(httptest.NewRequest("GET", "/nowhere", nil), 200, json, []byte(`{}`)); err == nil {
		t.Error("a response on an undocumented path passed")
	}
}

// TestOpenAPIDescribesWhatClientGeneratorsNeed checks what a generated
// client relies on: each operation named by a unique camelCase
// operationId, every status listed (no catch-all default), WWW-Authenticate
// on every 401 and Retry-After on every 429 and 503.
func TestOpenAPIDescribesWhatClientGeneratorsNeed(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromFile("../../api/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	camel := regexp.MustCompile(`^[a-z][a-zA-Z0-9]*$`)
	ids := map[string]string{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			switch {
			case !camel.MatchString(op.OperationID):
				t.Errorf("%s: operationId %q is not camelCase", where, op.OperationID)
			case ids[op.OperationID] != "":
				t.Errorf("%s: operationId %q is also %s's", where, op.OperationID, ids[op.OperationID])
			}
			ids[op.OperationID] = where
			if op.Responses.Default() != nil {
				t.Errorf("%s: a default response; list each status instead", where)
			}
			for status, headers := range map[int][]string{401: {"WWW-Authenticate"}, 429: {"Retry-After"}, 503: {"Retry-After"}} {
				resp := op.Responses.Status(status)
				if resp == nil {
					continue
				}
				for _, h := range headers {
					switch hdr := resp.Value.Headers[h]; {
					case hdr == nil:
						t.Errorf("%s: %d declares no %s header", where, status, h)
					case h == "Retry-After" && !hdr.Value.Required:
						t.Errorf("%s: %d declares Retry-After optional; the server always sends it", where, status)
					}
				}
			}
		}
	}
	if len(ids) == 0 {
		t.Fatal("no operations found")
	}
}
