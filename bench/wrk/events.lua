-- wrk script for bench/load.py: every request moves a pledge of this thread's share of POOL, round-robin —
-- `submit` by its owner when proposing, `return` by the branch secretary when reviewing. bench/load.py puts
-- before this file: POOL = {{pledge id, state, version, owner token, reviewer token}, …}, NTHREADS, REASON.
local SUBMIT = '{"event":"submit"}'
local RETURN = '{"event":"return","reason":"' .. REASON .. '"}'
threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local function post(path, token, body)
  return wrk.format("POST", path, {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}, body)
end

function init(args)
  mine, byid, pos = {}, {}, 0
  codes, moved_submit, moved_return, healed = {}, 0, 0, 0
  for i, row in ipairs(POOL) do
    if (i - 1) % NTHREADS == tid then
      local path = "/api/v1/pledges/" .. row[1] .. "/events"
      local p = {id = row[1], state = row[2], version = row[3],
                 submit = post(path, row[4], SUBMIT), ret = post(path, row[5], RETURN)}
      mine[#mine + 1] = p
      byid[row[1]] = p
    end
  end
end

function request()
  pos = pos % #mine + 1
  local p = mine[pos]
  if p.state == "proposing" then return p.submit end
  return p.ret
end

-- Follow each pledge's state from the answers: a 200 carries the pledge (newer versions win), a refused
-- transition (409) names the pledge in `instance` and its current state.
function response(status, headers, body)
  codes[status] = (codes[status] or 0) + 1
  if status == 200 then
    local id, state, version = string.match(body, '^{"id":(%d+),.-"state":"([%w_]+)".-"version":(%d+)')
    local p = id and byid[tonumber(id)]
    if p and tonumber(version) > p.version then p.state, p.version = state, tonumber(version) end
    if state == "reviewing" then moved_submit = moved_submit + 1 elseif state == "proposing" then
      moved_return = moved_return + 1 end
  elseif status == 409 and string.find(body, "transition-not-allowed", 1, true) then
    local id = string.match(body, '"instance":"/api/v1/pledges/(%d+)/events"')
    local state = string.match(body, '"state":"([%w_]+)"')
    local p = id and byid[tonumber(id)]
    if p and state then p.state = state; healed = healed + 1 end
  end
end
