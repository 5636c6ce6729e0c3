# tflint's bundled Terraform ruleset with every rule on: documented and typed
# variables and outputs, the standard module structure, naming, no deprecated
# syntax or unused declarations.
plugin "terraform" {
  enabled = true
  preset  = "all"
}
