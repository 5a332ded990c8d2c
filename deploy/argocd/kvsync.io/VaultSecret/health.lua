-- Argo CD health of a kvsync VaultSecret: the rules kstatus applies (observedGeneration, then the
-- Stalled and Reconciling conditions), then Ready. Runs in Argo CD's sandbox: base, table and a
-- safe os only (no string library).
local function describe(condition)
  return (condition.reason or "") .. ": " .. (condition.message or "")
end

local status = obj.status
local generation = obj.metadata.generation
if status == nil or status.observedGeneration == nil or status.observedGeneration ~= generation then
  return {
    status = "Progressing",
    message = "Waiting for kvsync to sync generation " .. tostring(generation),
  }
end

local found = {}
for _, condition in ipairs(status.conditions or {}) do
  found[condition.type] = condition
end

if found.Stalled ~= nil and found.Stalled.status == "True" then
  return { status = "Degraded", message = describe(found.Stalled) }
end
if found.Reconciling ~= nil and found.Reconciling.status == "True" then
  return { status = "Progressing", message = describe(found.Reconciling) }
end
if found.Ready ~= nil and found.Ready.status == "True" then
  if found.ExpiringSoon ~= nil and found.ExpiringSoon.status == "True" then
    return { status = "Healthy", message = describe(found.ExpiringSoon) }
  end
  return { status = "Healthy", message = found.Ready.message }
end
if found.Ready ~= nil then
  return { status = "Degraded", message = describe(found.Ready) }
end
return { status = "Progressing", message = "Waiting for the Ready condition" }
