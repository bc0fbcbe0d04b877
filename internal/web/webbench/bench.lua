-- wrk script for webbench. TOKEN is the staff token; MODE picks the
-- request:
--
--   MODE=get     GET /api/v1/orgs/bench/users/{username}, cycling over
--                USERS active users (user0000001 ..., default 1000).
--   MODE=unlock  POST .../users/{username}/unlock to users locked0000001
--                ... each once: thread i of THREADS (which must equal
--                wrk's -t, default 2) takes users START+i, START+i+THREADS
--                ..., so no two requests name the same user and every 200
--                is a real unlock. START skips users an earlier run
--                unlocked (default 0).
--
-- At the end it prints how many answers were not 200 (for unlock, a 409
-- would mean a user was unlocked twice or the seeded users ran out).
local token = os.getenv("TOKEN")
local mode = os.getenv("MODE") or "get"
local threads = {}
local n = 0

function setup(thread)
  n = n + 1
  thread:set("id", n)
  table.insert(threads, thread)
end

function init(args)
  wrk.headers["Authorization"] = "Bearer " .. token
  users = tonumber(os.getenv("USERS") or "1000")
  step = tonumber(os.getenv("THREADS") or "2")
  if mode == "unlock" then
    counter = tonumber(os.getenv("START") or "0") + id - step
  else
    counter = id * 7919
  end
end

function request()
  if mode == "unlock" then
    counter = counter + step
    return wrk.format("POST", string.format("/api/v1/orgs/bench/users/locked%07d/unlock", counter))
  end
  counter = counter + 1
  return wrk.format("GET", string.format("/api/v1/orgs/bench/users/user%07d", counter % users + 1))
end

bad = 0
function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end

function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("bad") end
  io.write(string.format("answers other than 200: %d\n", total))
end
