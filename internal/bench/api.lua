-- wrk script of "bench api". MODE picks the request, as the admin token
-- TOKEN: 
--
--   get     GET /api/v1/orgs/bench/users/{username}, stepping through
--           the USERS seeded users from a different place in each thread.
--   unlock  POST .../users/{username}/unlock, each user once: thread id
--           of THREADS takes users id, id+THREADS, id+2*THREADS ..., so no
--           two requests name the same user and every 200 is a real
--           unlock. Past USERS the names run out and the answers are 404s,
--           which the bench reports.
local mode = os.getenv("MODE")
local users = tonumber(os.getenv("USERS"))
local step = tonumber(os.getenv("THREADS"))
local counter

function init(args)
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
  if mode == "unlock" then
    counter = id - step
  else
    counter = math.floor((id - 1) * users / step)
  end
end

function request()
  if mode == "unlock" then
    counter = counter + step
    return wrk.format("POST", string.format("/api/v1/orgs/bench/users/u%07d/unlock", counter))
  end
  counter = counter + 1
  return wrk.format("GET", string.format("/api/v1/orgs/bench/users/u%07d", counter % users + 1))
end
