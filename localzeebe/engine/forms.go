package engine

import (
	"bytes"
	"crypto/md5"
	"encoding/json"
	"fmt"
	"strings"
)

// VTForm is the value type of a deployed Camunda Form's record.
const VTForm = "FORM"

// FormValue is the value of FORM records and, without the resource, a
// deployment's form metadata (Zeebe 8.5's form record).
type FormValue struct {
	FormID       string `json:"formId"`
	Version      int32  `json:"version"`
	FormKey      int64  `json:"formKey"`
	ResourceName string `json:"resourceName"`
	Checksum     []byte `json:"checksum"`
	IsDuplicate  bool   `json:"isDuplicate"`
	TenantID     string `json:"tenantId"`
	Resource     []byte `json:"resource,omitempty"`
}

// formDef is a deployed form version.
type formDef struct {
	FormValue
}

// parseForm reads a .form resource's id: a Camunda Form is a JSON object
// whose "id" names it; linked user tasks refer to it by that id.
func parseForm(data []byte) (string, error) {
	var f struct {
		ID *string `json:"id"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return "", fmt.Errorf("the form is not a JSON object: %w", err)
	}
	if f.ID == nil || strings.TrimSpace(*f.ID) == "" {
		return "", fmt.Errorf("expected the form to have an 'id', but it is missing or blank")
	}
	return *f.ID, nil
}

// deployForm deploys one form version, or finds the latest one unchanged
// (same checksum and resource name): then no FORM record is written.
func (p *proc) deployForm(r Resource, id string, res *DeployResult) {
	sum := md5.Sum(r.Resource)
	vs := p.st.forms[id]
	if n := len(vs); n > 0 && bytes.Equal(vs[n-1].Checksum, sum[:]) && vs[n-1].ResourceName == r.ResourceName {
		meta := vs[n-1].FormValue
		meta.Resource, meta.IsDuplicate = nil, true
		res.Forms = append(res.Forms, meta)
		return
	}
	f := &formDef{FormValue{FormID: id, Version: int32(len(vs) + 1), FormKey: p.st.nextKey(), ResourceName: r.ResourceName,
		Checksum: sum[:], TenantID: DefaultTenant, Resource: r.Resource}}
	p.st.forms[id] = append(vs, f)
	p.event(VTForm, "CREATED", f.FormKey, f.FormValue)
	meta := f.FormValue
	meta.Resource = nil
	res.Forms = append(res.Forms, meta)
}

// latestForm is the latest version of a form id; nil when none is deployed.
func (s *state) latestForm(id string) *formDef {
	vs := s.forms[id]
	if len(vs) == 0 {
		return nil
	}
	return vs[len(vs)-1]
}
