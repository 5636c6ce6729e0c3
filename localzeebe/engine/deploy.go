package engine

import (
	"bytes"
	"context"
	"crypto/md5"
	"fmt"
	"strings"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/bpmn"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/dmn"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/feel"
)

// DeployResult is what a deployment created (or found already deployed).
type DeployResult struct {
	Key                  int64
	Processes            []ProcessMetadata
	Decisions            []DecisionValue
	DecisionRequirements []DecisionRequirementsValue
	Forms                []FormValue // without their resources
}

// Deploy deploys BPMN resources atomically.
func (e *Engine) Deploy(ctx context.Context, resources []Resource) (*DeployResult, error) {
	v := &DeploymentValue{Resources: resources, ProcessesMetadata: []ProcessMetadata{}, DecisionsMetadata: []DecisionValue{},
		DecisionRequirementsMetadata: []DecisionRequirementsValue{}, FormMetadata: []FormValue{}, TenantID: DefaultTenant}
	out, err := e.submit(ctx, &Record{ValueType: VTDeployment, Intent: "CREATE", Key: -1, Value: v})
	if err != nil {
		return nil, err
	}
	return out.(*DeployResult), nil
}

func checkExpression(expr string) error {
	_, err := feel.Parse(strings.TrimPrefix(strings.TrimSpace(expr), "="))
	return err
}

func (p *proc) deploy(rec *Record) (any, error) {
	v := rec.Value.(*DeploymentValue)
	if len(v.Resources) == 0 {
		return nil, reject("CREATE", "INVALID_ARGUMENT", "Expected to deploy at least one resource, but none given")
	}
	type parsed struct {
		res  Resource
		proc *bpmn.ProcessDef
	}
	var all []parsed
	type parsedDRG struct {
		res Resource
		drg *dmn.Definitions
	}
	var drgs []parsedDRG
	type parsedForm struct {
		res Resource
		id  string
	}
	var forms []parsedForm
	seenForm := map[string]string{}
	var problems []string
	seen := map[string]string{}
	seenDRG := map[string]string{}
	for _, r := range v.Resources {
		name := r.ResourceName
		lower := strings.ToLower(name)
		switch {
		case strings.HasSuffix(lower, ".bpmn"), strings.HasSuffix(lower, ".xml"):
		case strings.HasSuffix(lower, ".dmn"):
			m, err := dmn.Parse(r.Resource)
			if err != nil {
				problems = append(problems, fmt.Sprintf("'%s': %v", name, err))
				continue
			}
			if other, dup := seenDRG[m.ID]; dup {
				problems = append(problems, fmt.Sprintf("Duplicated decision requirements id in resources '%s' and '%s'", other, name))
				continue
			}
			seenDRG[m.ID] = name
			drgs = append(drgs, parsedDRG{res: r, drg: m})
			continue
		case strings.HasSuffix(lower, ".form"):
			id, err := parseForm(r.Resource)
			if err != nil {
				problems = append(problems, fmt.Sprintf("'%s': %v", name, err))
				continue
			}
			if other, dup := seenForm[id]; dup {
				problems = append(problems, fmt.Sprintf("Duplicated form id in resources '%s' and '%s'", other, name))
				continue
			}
			seenForm[id] = name
			forms = append(forms, parsedForm{res: r, id: id})
			continue
		default:
			problems = append(problems, fmt.Sprintf("'%s': unknown resource type", name))
			continue
		}
		defs, err := bpmn.Parse(r.Resource, bpmn.WithExpressionCheck(checkExpression))
		if err != nil {
			problems = append(problems, fmt.Sprintf("'%s': %v", name, err))
			continue
		}
		for _, pd := range defs.Processes {
			if other, dup := seen[pd.ID]; dup {
				problems = append(problems, fmt.Sprintf("Duplicated process id in resources '%s' and '%s'", other, name))
				continue
			}
			seen[pd.ID] = name
			all = append(all, parsed{res: r, proc: pd})
		}
	}
	if len(problems) > 0 {
		return nil, reject("CREATE", "INVALID_ARGUMENT", "Expected to deploy new resources, but encountered the following errors:\n%s", strings.Join(problems, "\n"))
	}
	res := &DeployResult{}
	for _, a := range all {
		sum := md5.Sum(a.res.Resource)
		if last := p.st.latest(a.proc.ID); last != nil && bytes.Equal(last.checksum, sum[:]) && last.resourceName == a.res.ResourceName {
			res.Processes = append(res.Processes, ProcessMetadata{BpmnProcessID: last.id, Version: last.version,
				ProcessDefinitionKey: last.key, ResourceName: last.resourceName, Checksum: last.checksum, Duplicate: true, TenantID: DefaultTenant})
			continue
		}
		version := int32(1)
		if last := p.st.latest(a.proc.ID); last != nil {
			version = last.version + 1
		}
		pd := &procDef{key: p.st.nextKey(), id: a.proc.ID, version: version, resourceName: a.res.ResourceName,
			checksum: sum[:], resource: a.res.Resource, model: a.proc}
		p.st.procs[pd.key] = pd
		p.st.procVersion[pd.id] = append(p.st.procVersion[pd.id], pd)
		p.event(VTProcess, "CREATED", pd.key, ProcessValue{BpmnProcessID: pd.id, Version: pd.version, ProcessDefinitionKey: pd.key,
			ResourceName: pd.resourceName, Checksum: pd.checksum, Resource: pd.resource, TenantID: DefaultTenant})
		p.openStartSubscriptions(pd)
		p.openSignalStartSubscriptions(pd)
		p.scheduleStartTimers(pd)
		res.Processes = append(res.Processes, ProcessMetadata{BpmnProcessID: pd.id, Version: pd.version, ProcessDefinitionKey: pd.key,
			ResourceName: pd.resourceName, Checksum: pd.checksum, TenantID: DefaultTenant})
	}
	for _, d := range drgs {
		p.deployDRG(d.res, d.drg, res)
	}
	for _, f := range forms {
		p.deployForm(f.res, f.id, res)
	}
	res.Key = p.st.nextKey()
	out := *v
	out.ProcessesMetadata = res.Processes
	if res.Processes == nil {
		out.ProcessesMetadata = []ProcessMetadata{}
	}
	if res.Decisions != nil {
		out.DecisionsMetadata, out.DecisionRequirementsMetadata = res.Decisions, res.DecisionRequirements
	}
	if res.Forms != nil {
		out.FormMetadata = res.Forms
	}
	p.event(VTDeployment, "CREATED", res.Key, out)
	return res, nil
}
