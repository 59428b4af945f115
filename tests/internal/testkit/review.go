// AdmissionReview decoding, and the checks kube-apiserver makes on a
// mutating webhook's answer before it applies the patch.
package testkit

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"unicode"

	jsonpatch "github.com/evanphx/json-patch"
)

// Status is response.status of an answer.
type Status struct {
	Code    *int32 `json:"code"`
	Message string `json:"message"`
}

// Response is response of an answer; pointers tell a missing field from
// its zero value.
type Response struct {
	UID              string            `json:"uid"`
	Allowed          *bool             `json:"allowed"`
	Status           *Status           `json:"status"`
	Patch            *string           `json:"patch"`
	PatchType        *string           `json:"patchType"`
	Warnings         []string          `json:"warnings"`
	AuditAnnotations map[string]string `json:"auditAnnotations"`
}

// Answer is an AdmissionReview as the webhook answers it.
type Answer struct {
	APIVersion string    `json:"apiVersion"`
	Kind       string    `json:"kind"`
	Response   *Response `json:"response,omitempty"`
}

// Request is what the tests read of an AdmissionReview request.
type Request struct {
	APIVersion string
	UID        string
	Object     json.RawMessage
}

// DecodeRequest reads the apiVersion, uid and object of a review.
func DecodeRequest(review []byte) (Request, error) {
	var in struct {
		APIVersion string `json:"apiVersion"`
		Request    struct {
			UID    string          `json:"uid"`
			Object json.RawMessage `json:"object"`
		} `json:"request"`
	}
	if err := json.Unmarshal(review, &in); err != nil {
		return Request{}, err
	}
	return Request{APIVersion: in.APIVersion, UID: in.Request.UID, Object: in.Request.Object}, nil
}

// DecodeAnswer reads an answer.
func DecodeAnswer(body []byte) (*Answer, error) {
	var a Answer
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&a); err != nil {
		return nil, fmt.Errorf("answer is not JSON: %v", err)
	}
	return &a, nil
}

// Outcome is "denied", "mutated" (allowed with a patch) or "allowed".
func (r *Response) Outcome() string {
	if r.Allowed != nil && !*r.Allowed {
		return "denied"
	}
	if r.Patch != nil {
		return "mutated"
	}
	return "allowed"
}

// PatchJSON is the decoded patch and its operations (nil, nil, nil when
// the answer has no patch).
func (r *Response) PatchJSON() ([]byte, []map[string]interface{}, error) {
	if r.Patch == nil {
		return nil, nil, nil
	}
	raw, err := base64.StdEncoding.DecodeString(*r.Patch)
	if err != nil {
		return nil, nil, fmt.Errorf("patch is not standard base64: %v", err)
	}
	var ops []map[string]interface{}
	if err := json.Unmarshal(raw, &ops); err != nil {
		return nil, nil, fmt.Errorf("patch is not an array of objects: %v", err)
	}
	return raw, ops, nil
}

var auditKey = regexp.MustCompile(`^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`)

// Validate applies kube-apiserver's checks on a mutating webhook answer to
// the request req. It returns the response (nil when there is none) and
// what is wrong.
func Validate(req Request, body []byte) (*Response, []string) {
	var errs []string
	a, err := DecodeAnswer(body)
	if err != nil {
		return nil, []string{err.Error()}
	}
	if a.APIVersion != req.APIVersion {
		errs = append(errs, fmt.Sprintf("apiVersion %q, want %q", a.APIVersion, req.APIVersion))
	}
	if a.Kind != "AdmissionReview" {
		errs = append(errs, fmt.Sprintf("kind %q", a.Kind))
	}
	r := a.Response
	if r == nil {
		return nil, append(errs, "no response")
	}
	if r.UID != req.UID {
		errs = append(errs, fmt.Sprintf("uid %q, want %q", r.UID, req.UID))
	}
	if r.Allowed == nil {
		errs = append(errs, "allowed missing")
	}
	if (r.Patch != nil) != (r.PatchType != nil) {
		errs = append(errs, "patch and patchType must come together")
	}
	if r.PatchType != nil && *r.PatchType != "JSONPatch" {
		errs = append(errs, "patchType "+*r.PatchType)
	}
	if r.Allowed != nil && !*r.Allowed {
		if r.Status == nil || r.Status.Code == nil || *r.Status.Code < 400 || r.Status.Message == "" {
			errs = append(errs, "a denial needs status.code >= 400 and a message")
		} else if strings.ContainsAny(r.Status.Message, "\n\r") {
			errs = append(errs, "denial message is not one line")
		}
		if r.Patch != nil {
			errs = append(errs, "a denial carries a patch")
		}
	}
	for _, w := range r.Warnings {
		if w == "" || len(w) > 256 {
			errs = append(errs, fmt.Sprintf("warning empty or too long (%d)", len(w)))
		}
		for _, c := range w {
			if unicode.IsControl(c) {
				errs = append(errs, fmt.Sprintf("warning has a control character: %q", w))
				break
			}
		}
	}
	for k := range r.AuditAnnotations {
		if len(k) > 63 || !auditKey.MatchString(k) {
			errs = append(errs, "invalid audit annotation key "+k)
		}
	}
	return r, errs
}

// ApplyPatch applies a JSON patch to an object with evanphx/json-patch,
// the library kube-apiserver uses.
func ApplyPatch(object, patch []byte) ([]byte, error) {
	p, err := jsonpatch.DecodePatch(patch)
	if err != nil {
		return nil, fmt.Errorf("patch does not decode: %v", err)
	}
	out, err := p.Apply(object)
	if err != nil {
		return nil, fmt.Errorf("patch does not apply: %v", err)
	}
	return out, nil
}

// CheckLikeAPIServer validates the answer body to review and applies its
// patch to the request's object, as kube-apiserver would; nil when both
// succeed.
func CheckLikeAPIServer(review, body []byte) error {
	req, err := DecodeRequest(review)
	if err != nil {
		return err
	}
	r, errs := Validate(req, body)
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	raw, _, err := r.PatchJSON()
	if err != nil || raw == nil {
		return err
	}
	_, err = ApplyPatch(req.Object, raw)
	return err
}
