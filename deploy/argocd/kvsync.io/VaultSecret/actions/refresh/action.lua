-- Asks kvsync to re-read this VaultSecret's objects from Key Vault now: any new value of the
-- kvsync.io/force-sync annotation does it (kvsync records the value it handled in
-- status.lastHandledForceSync, so a restart does not repeat it).
if obj.metadata.annotations == nil then
  obj.metadata.annotations = {}
end
obj.metadata.annotations["kvsync.io/force-sync"] = os.date("!%Y-%m-%dT%H:%M:%SZ")
return obj
