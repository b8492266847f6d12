-- wrk script: GET /dashboard with a session cookie obtained beforehand
-- (E2E_COOKIE), adopting any re-sealed cookie the app sends back (after a
-- key promotion every instance re-seals once). Counts non-2xx answers and
-- lost sessions (a 401 or a page without alice), and prints them from done().

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   cookie = os.getenv("E2E_COOKIE")
   if cookie == nil or cookie == "" then
      error("E2E_COOKIE is not set")
   end
   responses, non2xx, lost, resealed = 0, 0, 0, 0
end

function request()
   return wrk.format("GET", "/dashboard", { ["Cookie"] = "__Host-session=" .. cookie })
end

function response(status, headers, body)
   responses = responses + 1
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
   end
   if status == 401 or body == nil or not body:find('id="user">alice<', 1, true) then
      lost = lost + 1
   end
   local set = headers["Set-Cookie"] or headers["set-cookie"]
   if set ~= nil then
      local value = set:match("^__Host%-session=([^;]*)")
      if value ~= nil and value ~= "" then
         cookie = value
         resealed = resealed + 1
      end
   end
end

function done(summary, latency, requests)
   local total = { responses = 0, non2xx = 0, lost = 0, resealed = 0 }
   for _, thread in ipairs(threads) do
      for name, _ in pairs(total) do
         total[name] = total[name] + thread:get(name)
      end
      io.write("E2E_WRK_COOKIE " .. thread:get("cookie") .. "\n")
   end
   local seconds = summary.duration / 1e6
   local e = summary.errors
   io.write(string.format(
      "E2E_WRK responses=%d non2xx=%d lost=%d resealed=%d requests=%d seconds=%.2f rps=%.1f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f connect_errors=%d read_errors=%d write_errors=%d status_errors=%d timeouts=%d\n",
      total.responses, total.non2xx, total.lost, total.resealed, summary.requests, seconds,
      summary.requests / seconds, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
      latency.max / 1000, e.connect, e.read, e.write, e.status, e.timeout))
end
