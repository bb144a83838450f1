-- wrk script for benchmarks/proxy_cache.py: GETs the paths listed (one a line) in the file named
-- by the WRK_URLS environment variable in turn, each time with the next of ten Accept-Encoding
-- values: browsers' (six of Chrome's and Firefox's, three of Safari's) and one client in ten
-- sending none; and with the User-Agent WRK_AGENT, which the app's access log records to tell
-- the phases apart. When WRK_PACE_MS is set, each connection waits that many milliseconds
-- between its requests.
local paths = {}
local chrome, safari = "gzip, deflate, br, zstd", "gzip, deflate, br"
local encodings = {chrome, chrome, chrome, chrome, chrome, chrome, safari, safari, safari, false}
local counter = 0
local threads = 0
local agent = os.getenv("WRK_AGENT") or "wrk"
local pace = tonumber(os.getenv("WRK_PACE_MS") or "0")

-- Threads start at different places in the list, so that they do not move in step.
function setup(thread)
  thread:set("start", threads * 5)
  threads = threads + 1
end

function init(args)
  for line in io.lines(os.getenv("WRK_URLS")) do
    if #line > 0 then paths[#paths + 1] = line end
  end
  counter = start or 0
end

function request()
  counter = counter + 1
  local path = paths[counter % #paths + 1]
  local encoding = encodings[math.floor(counter / #paths) % #encodings + 1]
  local headers = {["User-Agent"] = agent}
  if encoding then headers["Accept-Encoding"] = encoding end
  return wrk.format("GET", path, headers)
end

if pace > 0 then
  function delay()
    return pace
  end
end
