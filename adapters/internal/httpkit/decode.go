package httpkit

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/challengekit/challengekit/challenge"
)

// Request bodies are decoded strictly, so that no two parsers (ours, a
// WAF's, the client's) can read one body two ways: a repeated member or
// element is refused, as is invalid UTF-8 anywhere in the body, member
// names match exactly (never "UserId" for "userId"), and a number that
// does not fit its field is refused rather than wrapped. JSON is decoded
// with github.com/go-json-experiment/json, the encoding/json/v2 of Go 1.27
// (strict by default), XML with encoding/xml after a pass that refuses
// repeats.

// readBody reads r's whole body into buf, refusing more than maxBytes, an
// empty body, and invalid UTF-8.
func readBody(w http.ResponseWriter, r *http.Request, maxBytes int64, buf *bytes.Buffer) ([]byte, error) {
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, maxBytes))
	body := buf.Bytes()
	switch {
	case err != nil && tooLarge(err): // tooLarge's target escapes: look only at an error
		return nil, ErrBodyTooLarge
	case err != nil:
		return nil, &challenge.FieldError{Message: "Request body could not be read."}
	case len(bytes.TrimSpace(body)) == 0:
		return nil, &challenge.FieldError{Message: "Request body is empty."}
	case !utf8.Valid(body):
		return nil, &challenge.FieldError{Message: "Request body is not valid UTF-8."}
	}
	return body, nil
}

// bodyBuffers holds the buffers request bodies are read into. A body is
// garbage once decoded: both decoders copy what they keep (strings,
// bytes; a custom unmarshaler must copy what it retains, as both
// packages' contracts say).
var bodyBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// putBodyBuffer pools buf, cleared: a body may hold an answer or a code,
// which should not linger in the heap until the buffer is reused.
func putBodyBuffer(buf *bytes.Buffer) {
	if buf.Cap() <= maxPooledBuffer {
		buf.Reset()
		b := buf.Bytes()
		clear(b[:cap(b)])
		bodyBuffers.Put(buf)
	}
}

func tooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

// DecodeBody decodes r's body into dst as JSON or XML, by mediaType.
func DecodeBody(w http.ResponseWriter, r *http.Request, mediaType string, maxBytes int64, dst any) error {
	buf := bodyBuffers.Get().(*bytes.Buffer)
	defer putBodyBuffer(buf)
	buf.Reset()
	body, err := readBody(w, r, maxBytes, buf)
	if err != nil {
		return err
	}
	if IsXML(mediaType) {
		return unmarshalXML(body, dst)
	}
	return unmarshalJSON(body, dst)
}

// unmarshalJSON decodes one JSON value, and nothing after it, into dst.
func unmarshalJSON(body []byte, dst any) error {
	err := json.Unmarshal(body, dst)
	if err == nil {
		return nil
	}
	var syn *jsontext.SyntacticError
	var sem *json.SemanticError
	switch {
	case errors.As(err, &syn) && syn.Err == jsontext.ErrDuplicateName:
		return &challenge.FieldError{Field: pointerField(string(syn.JSONPointer)), Message: "is given more than once"}
	case errors.As(err, &syn) && oneValueThenMore(body):
		return &challenge.FieldError{Message: "Request body must hold one JSON object and nothing after it."}
	case errors.As(err, &syn), errors.Is(err, io.ErrUnexpectedEOF):
		return &challenge.FieldError{Message: "Request body is not valid JSON."}
	case errors.As(err, &sem) && sem.JSONPointer == "" && sem.GoType != nil && sem.GoType.Kind() == reflect.Struct:
		return &challenge.FieldError{Message: "Request body must be a JSON object."}
	case errors.As(err, &sem) && sem.JSONPointer != "":
		msg := "is invalid"
		var fe *challenge.FieldError
		switch {
		case errors.As(sem.Err, &fe): // a type's own decoder said what is wrong
			msg = fe.Message
		case sem.GoType != nil:
			msg = "must be " + jsonKind(sem.GoType)
		}
		return &challenge.FieldError{Field: pointerField(string(sem.JSONPointer)), Message: msg}
	}
	return &challenge.FieldError{Message: "Request body is not valid JSON for this resource."}
}

// oneValueThenMore reports whether body starts with a whole JSON value and
// goes on after it: the error worth its own message.
func oneValueThenMore(body []byte) bool {
	dec := jsontext.NewDecoder(bytes.NewReader(body))
	if dec.SkipValue() != nil {
		return false
	}
	_, err := dec.ReadToken()
	return !errors.Is(err, io.EOF)
}

// pointerField turns a JSON Pointer ("/userInfo/userId", "/list/0/name")
// into the dotted name errors use ("userInfo.userId", "list[0].name").
func pointerField(ptr string) string {
	var b strings.Builder
	for i, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		if tok != "" && strings.Trim(tok, "0123456789") == "" {
			b.WriteString("[" + tok + "]")
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return Clip(b.String())
}

func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Struct, reflect.Map:
		return "a JSON object"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer in range"
	default:
		return "a number in range"
	}
}

// unmarshalXML decodes one XML document, and nothing after it but space,
// comments and processing instructions, into dst. The decoder is strict
// and knows only XML's five predefined entities, so a document cannot
// define and expand its own (no "billion laughs").
func unmarshalXML(body []byte, dst any) error {
	if err := checkXMLRepeats(body, reflect.TypeOf(dst)); err != nil {
		return err
	}
	dec := xml.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(dst); err != nil {
		return &challenge.FieldError{Message: "Request body is not valid XML for this resource."}
	}
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		switch t := tok.(type) {
		case xml.Comment, xml.ProcInst:
			continue
		case xml.CharData:
			if len(bytes.TrimSpace(t)) == 0 {
				continue
			}
		}
		return &challenge.FieldError{Message: "Request body must hold one XML document and nothing after it."}
	}
}

// checkXMLRepeats refuses an element repeated where t (the type decoded
// into) has a single field for it: encoding/xml would keep the last one.
func checkXMLRepeats(body []byte, t reflect.Type) error {
	type frame struct {
		fields xmlFields // nil: an element decoded into no field, not checked
		seen   map[string]bool
		path   string
	}
	dec := xml.NewDecoder(bytes.NewReader(body))
	var stack []frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // what is malformed, Decode reports
		}
		switch el := tok.(type) {
		case xml.StartElement:
			name := el.Name.Local
			var next reflect.Type
			path := name
			if len(stack) == 0 {
				next = t
			} else if top := &stack[len(stack)-1]; top.fields != nil {
				f, ok := top.fields[name]
				path = top.path + "." + name
				if ok {
					if !f.repeats && top.seen[name] {
						return &challenge.FieldError{Field: Clip(path), Message: "is given more than once"}
					}
					top.seen[name] = true
					next = f.typ
				}
			}
			stack = append(stack, frame{fields: fieldsOf(next), seen: map[string]bool{}, path: path})
		case xml.EndElement:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		}
	}
}

// xmlField is how an element decodes into a struct field.
type xmlField struct {
	typ     reflect.Type // the element's own type (a slice's element type)
	repeats bool         // a slice: the element may be repeated
}

type xmlFields map[string]xmlField

var xmlFieldCache sync.Map // reflect.Type → xmlFields

// fieldsOf returns the child elements a struct type (or a pointer to one)
// decodes, by name; nil for any other type.
func fieldsOf(t reflect.Type) xmlFields {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	if f, ok := xmlFieldCache.Load(t); ok {
		return f.(xmlFields)
	}
	fields := xmlFields{}
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() || sf.Name == "XMLName" {
			continue
		}
		name, opts, _ := strings.Cut(sf.Tag.Get("xml"), ",")
		if name == "-" || strings.Contains(opts, "attr") || strings.Contains(opts, "chardata") ||
			strings.Contains(opts, "innerxml") || strings.Contains(opts, "comment") || strings.Contains(name, ">") {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		ft, repeats := sf.Type, false
		if ft.Kind() == reflect.Slice && ft.Elem().Kind() != reflect.Uint8 {
			ft, repeats = ft.Elem(), true
		}
		fields[name] = xmlField{typ: ft, repeats: repeats}
	}
	xmlFieldCache.Store(t, fields)
	return fields
}
