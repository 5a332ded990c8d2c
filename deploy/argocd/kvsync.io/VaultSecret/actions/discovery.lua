-- The actions Argo CD offers on a VaultSecret.
local actions = {}
actions["refresh"] = {
  ["displayName"] = "Refresh from Key Vault",
  ["iconClass"] = "fa fa-fw fa-rotate",
  ["disabled"] = false,
}
return actions
