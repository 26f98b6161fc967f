package authnhttp

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"slices"
	"strings"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/challengekit/challengekit/authn"
	"github.com/challengekit/challengekit/challenge"
)

// attrValue is the value of a factor attribute or a challengeAttrMap
// entry: a string, or an object whose members are strings (the original
// API's key/value pairs may carry objects). In XML an object's members are
// child elements of <value>.
//
// The domain (authn.KeyValue) holds strings only: an object value
// {"name":"Phone","os":"ios"} of attribute "device" travels as the
// attributes "device.name" and "device.os", and attributes named so are
// answered as one object again.
type attrValue struct {
	text    string
	members []authn.KeyValue // non-nil: an object, in the order given
}

// maxMembers bounds an object value; an attribute's members are few.
const maxMembers = 16

var errAttrValue = &challenge.FieldError{Message: "must be a string or an object whose members are strings"}

func (v attrValue) MarshalJSON() ([]byte, error) {
	if v.members == nil {
		return jsontext.AppendQuote(nil, v.text)
	}
	b := []byte{'{'}
	for i, m := range v.members {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = jsontext.AppendQuote(b, m.Key); err != nil {
			return nil, err
		}
		b = append(b, ':')
		if b, err = jsontext.AppendQuote(b, m.Value); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

func (v *attrValue) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	tok, err := dec.ReadToken()
	if err != nil {
		return err
	}
	switch tok.Kind() {
	case '"':
		*v = attrValue{text: tok.String()}
		return nil
	case '{':
	default:
		return errAttrValue
	}
	v.members = []authn.KeyValue{}
	if dec.PeekKind() == '}' {
		return errAttrValue // an object with no member names nothing
	}
	for dec.PeekKind() != '}' {
		tok, err := dec.ReadToken() // a repeated member is the decoder's syntactic error
		if err != nil {
			return err
		}
		name := tok.String() // a token is valid only until the next read
		val, err := dec.ReadToken()
		if err != nil {
			return err
		}
		if val.Kind() != '"' || len(v.members) == maxMembers {
			return errAttrValue
		}
		v.members = append(v.members, authn.KeyValue{Key: name, Value: val.String()})
	}
	_, err = dec.ReadToken()
	return err
}

func (v attrValue) MarshalXML(enc *xml.Encoder, start xml.StartElement) error {
	if v.members == nil {
		return enc.EncodeElement(v.text, start)
	}
	if err := enc.EncodeToken(start); err != nil {
		return err
	}
	for _, m := range v.members {
		if err := enc.EncodeElement(m.Value, xml.StartElement{Name: xml.Name{Local: m.Key}}); err != nil {
			return err
		}
	}
	return enc.EncodeToken(start.End())
}

func (v *attrValue) UnmarshalXML(dec *xml.Decoder, start xml.StartElement) error {
	var text bytes.Buffer
	for {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.CharData:
			text.Write(t)
		case xml.StartElement:
			s, err := memberText(dec)
			if err != nil {
				return err
			}
			if v.members == nil {
				v.members = []authn.KeyValue{}
			}
			if len(v.members) == maxMembers || slices.ContainsFunc(v.members, func(m authn.KeyValue) bool { return m.Key == t.Name.Local }) {
				return errAttrValue
			}
			v.members = append(v.members, authn.KeyValue{Key: t.Name.Local, Value: s})
		case xml.EndElement:
			if v.members != nil {
				if len(bytes.TrimSpace(text.Bytes())) > 0 {
					return errAttrValue // text and members mixed
				}
				return nil
			}
			v.text = text.String()
			return nil
		}
	}
}

// memberText reads the text of an object member's element, up to its
// end: a member is a string, so an element inside it is refused, as JSON
// refuses a nested object.
func memberText(dec *xml.Decoder) (string, error) {
	var text bytes.Buffer
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.CharData:
			text.Write(t)
		case xml.StartElement:
			return "", errAttrValue
		case xml.EndElement:
			return text.String(), nil
		}
	}
}

// factorAttribute is one of Oracle's UserFactorAttribute entries: a
// named attribute of the user's registration of a factor, or one the
// agent passes with Init.
type factorAttribute struct {
	Name  string    `json:"name" xml:"name"`
	Value attrValue `json:"value" xml:"value"`
}

// keyValue is a challengeAttrMap or prompts entry.
type keyValue struct {
	Key   string    `json:"key" xml:"key"`
	Value attrValue `json:"value" xml:"value"`
}

// flatten turns the agent's factor attributes into the domain's
// key/value pairs: an object value becomes one pair per member, named
// "attribute.member". A name with a dot is refused, so that no flat
// name can pose as an object's member.
func flatten(in []factorAttribute) ([]authn.KeyValue, error) {
	out := make([]authn.KeyValue, 0, len(in))
	for i, a := range in {
		if a.Name == "" || strings.Contains(a.Name, ".") {
			return nil, &challenge.FieldError{Field: fmt.Sprintf("challengedata.factorAttributes[%d].name", i),
				Message: "must be a name without dots"}
		}
		if a.Value.members == nil {
			out = append(out, authn.KeyValue{Key: a.Name, Value: a.Value.text})
			continue
		}
		for _, m := range a.Value.members {
			if !isName(m.Key) {
				return nil, &challenge.FieldError{Field: fmt.Sprintf("challengedata.factorAttributes[%d].value", i),
					Message: "must name its members with letters, digits, '_' and '-'"}
			}
			out = append(out, authn.KeyValue{Key: a.Name + "." + m.Key, Value: m.Value})
		}
	}
	return out, nil
}

// nest is flatten's inverse for answers: the pairs named
// "attribute.member" (one dot, member a plain name) become one entry,
// where the first of them stands, whose value is an object.
func nest(in []authn.KeyValue) []keyValue {
	out := make([]keyValue, 0, len(in))
	for _, kv := range in {
		name, member, isMember := strings.Cut(kv.Key, ".")
		if !isMember || !isName(name) || !isName(member) {
			out = append(out, keyValue{Key: kv.Key, Value: attrValue{text: kv.Value}})
			continue
		}
		at := slices.IndexFunc(out, func(e keyValue) bool { return e.Key == name && e.Value.members != nil })
		if at < 0 {
			out = append(out, keyValue{Key: name, Value: attrValue{members: []authn.KeyValue{}}})
			at = len(out) - 1
		}
		out[at].Value.members = append(out[at].Value.members, authn.KeyValue{Key: member, Value: kv.Value})
	}
	return out
}

// plain words pairs whose values are strings, such as prompts (a
// question code with dots is a key, not an object's name).
func plain(in []authn.KeyValue) []keyValue {
	out := make([]keyValue, len(in))
	for i, kv := range in {
		out[i] = keyValue{Key: kv.Key, Value: attrValue{text: kv.Value}}
	}
	return out
}

// userFactorAttributes words the same pairs as UserFactorAttribute
// entries.
func userFactorAttributes(in []keyValue) []factorAttribute {
	out := make([]factorAttribute, len(in))
	for i, kv := range in {
		out[i] = factorAttribute{Name: kv.Key, Value: kv.Value}
	}
	return out
}

// isName reports whether s may name an object member in both JSON and
// XML: a letter or underscore, then letters, digits, '_' or '-'.
func isName(s string) bool {
	for i, r := range s {
		switch {
		case r == '_', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case i > 0 && (r == '-' || r >= '0' && r <= '9'):
		default:
			return false
		}
	}
	return s != ""
}
