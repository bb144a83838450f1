-- wrk script for benchmarks/dashboard_callbacks.py: POSTs Dash callback requests to
-- /_dash-update-component, taking the JSON bodies in turn from the file named by the
-- WRK_BODIES environment variable (one body per line). A "__N__" in a body is replaced by a
-- number not sent before (this run's start time and a counter), so that every such request
-- names a view the server has not rendered yet.
--
-- Every request asks to close its connection. gunicorn's gthread workers share one listening
-- socket, and whichever worker wakes first accepts every connection waiting: wrk's connections,
-- all opened at once and kept alive, could all land on one worker and leave the other idle for
-- the whole run (half the throughput, at random). A connection per request spreads the load
-- over both workers, as many separate readers would.
local bodies = {}
local counter = 0
local sent = 0
local prefix = tostring(os.time())
local headers = {["Content-Type"] = "application/json", ["Connection"] = "close"}

function init(args)
  for line in io.lines(os.getenv("WRK_BODIES")) do
    if #line > 0 then bodies[#bodies + 1] = line end
  end
end

function request()
  counter = counter % #bodies + 1
  sent = sent + 1
  local body = bodies[counter]:gsub("__N__", prefix .. "-" .. sent)
  return wrk.format("POST", "/_dash-update-component", headers, body)
end
