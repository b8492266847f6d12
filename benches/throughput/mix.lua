-- The request mix of scripts/throughput.sh, the same for every variant.
--
--   wrk -t1 -c32 --latency -s mix.lua http://ADDR -- MODE CLIENTS
--
-- MODE is "session" or "baseline"; CLIENTS is the number of logical clients
-- per wrk thread (use connections / threads).
--
-- Each logical client logs in once (POST /login, form user=alice-K) and
-- keeps the session cookie it gets back; then every 10th of its requests
-- is a write (POST /visit) and the other nine are reads (GET /). A client
-- has at most one request in flight and always sends its latest cookie.
--
-- wrk does not tell a script which connection a request or response is
-- on, so clients are not tied to connections: a request goes to the next
-- idle client, and with as many clients as connections there is always
-- one. In "session" mode the response body (user=alice-K visits=N, read
-- from the session) names its client; the script checks that N is what
-- that client's own writes make it. In "baseline" mode there is no
-- session and no cookie, and responses free clients first in, first out.
--
-- Counted and printed by done():
--   non2xx   responses with a status outside 200..299
--   missing  2xx responses without the session (body "anonymous", or any
--            body that does not name a client); session mode only
--   stale    responses naming a client with another visit count
--   nocookie login or write responses without Set-Cookie
--   readcookie  read responses that set a cookie anyway (not an error)

mode = "session"
clients = 32

logins, reads, writes = 0, 0, 0
responses, non2xx, missing, stale, nocookie, readcookie, unmatched = 0, 0, 0, 0, 0, 0, 0

local state = {} -- per client: cookie, n, visits, kind (in flight), get, post
local ready, ready_head, ready_tail = {}, 1, 0 -- idle clients, a queue
local busy, busy_head, busy_tail = {}, 1, 0 -- clients in flight, baseline mode
local in_flight = {} -- client -> true while a request of it is unanswered
local login_headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }

local function push_ready(k)
   ready_tail = ready_tail + 1
   ready[ready_tail] = k
end

local function pop_ready()
   if ready_head > ready_tail then
      return nil
   end
   local k = ready[ready_head]
   ready[ready_head] = nil
   ready_head = ready_head + 1
   return k
end

local function new_client()
   local k = #state + 1
   state[k] = { cookie = nil, n = 0, visits = 0 }
   return k
end

-- The read and write requests of a client, rebuilt when its cookie changes.
local function build(c)
   local get, post = {}, {}
   if c.cookie then
      get["Cookie"] = c.cookie
      post["Cookie"] = c.cookie
   end
   c.get = wrk.format("GET", "/", get)
   c.post = wrk.format("POST", "/visit", post, "")
end

function init(args)
   mode = args[1] or mode
   clients = tonumber(args[2]) or clients
   if mode ~= "session" and mode ~= "baseline" then
      error("mode must be session or baseline, not " .. tostring(mode))
   end
   for _ = 1, clients do
      push_ready(new_client())
   end
end

function request()
   local k = pop_ready()
   if not k then
      -- Only after a lost response (a missing session names no client).
      k = new_client()
   end
   local c = state[k]
   local req
   if not c.get then
      c.kind = "login"
      logins = logins + 1
      req = wrk.format("POST", "/login", login_headers, "user=alice-" .. k)
   else
      c.n = c.n + 1
      if c.n % 10 == 0 then
         c.kind = "write"
         writes = writes + 1
         req = c.post
      else
         c.kind = "read"
         reads = reads + 1
         req = c.get
      end
   end
   in_flight[k] = true
   if mode == "baseline" then
      busy_tail = busy_tail + 1
      busy[busy_tail] = k
   end
   return req
end

local function set_cookie(headers)
   local value = headers["set-cookie"] or headers["Set-Cookie"]
   if not value then
      return nil
   end
   return value:match("^([^;]*)")
end

function response(status, headers, body)
   responses = responses + 1
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
   end

   -- The same parsing in both modes, so wrk spends the same per response.
   local id, n = body:match("^user=alice%-(%d+) visits=(%d+)")
   local cookie = set_cookie(headers)

   local k, visits
   if mode == "baseline" then
      k = busy[busy_head]
      busy[busy_head] = nil
      busy_head = busy_head + 1
   else
      if not id then
         if status >= 200 and status <= 299 then
            missing = missing + 1
         end
         return
      end
      k, visits = tonumber(id), tonumber(n)
   end
   if not k or not in_flight[k] then
      unmatched = unmatched + 1
      return
   end
   in_flight[k] = nil
   local c = state[k]

   if mode == "session" then
      local expected = c.visits
      if c.kind == "write" then
         expected = expected + 1
      end
      if visits ~= expected then
         stale = stale + 1
      end
      c.visits = visits
      if cookie then
         if c.kind == "read" then
            readcookie = readcookie + 1
         end
         if cookie ~= c.cookie then
            c.cookie = cookie
            c.get = nil
         end
      elseif c.kind ~= "read" then
         nocookie = nocookie + 1
      end
   end
   if not c.get then
      build(c)
   end
   push_ready(k)
end

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function done(summary, latency, requests)
   local names = {
      "logins", "reads", "writes", "responses", "non2xx", "missing", "stale",
      "nocookie", "readcookie", "unmatched",
   }
   local total = {}
   for _, name in ipairs(names) do
      total[name] = 0
   end
   for _, thread in ipairs(threads) do
      for _, name in ipairs(names) do
         total[name] = total[name] + (thread:get(name) or 0)
      end
   end
   local parts = {}
   for _, name in ipairs(names) do
      parts[#parts + 1] = name .. "=" .. total[name]
   end
   io.write("MIX " .. table.concat(parts, " ") .. "\n")
   local e = summary.errors
   io.write(string.format(
      "RESULT requests=%d duration_us=%d rps=%.1f p50_us=%d p99_us=%d "
         .. "connect=%d read=%d write=%d timeout=%d status=%d\n",
      summary.requests, summary.duration, summary.requests / summary.duration * 1e6,
      latency:percentile(50), latency:percentile(99),
      e.connect, e.read, e.write, e.timeout, e.status))
end
