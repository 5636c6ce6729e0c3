// Package terraform holds the Terraform modules users apply
// (modules/bridge, modules/zeebe-lambda) and an example root (examples/).
// Its Go tests read the modules with Terraform's own parser and check what
// they declare: names, permissions, validations and outputs.
package terraform
