-- wrk script: GET /api/v1/tickets full-text searches with filters.
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
local function enc(s)
  return (s:gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end
local queries = { "包裹没到", "refund", "登录", "payment failed", "质量问题", "address" }
local filters = { "", "&status=new", "&channel=email", "&priority=high", "&sort=-created_at" }
local n = 0
request = function()
  n = n + 1
  local path = "/api/v1/tickets?size=20&q=" .. enc(queries[(n % #queries) + 1]) .. filters[(n % #filters) + 1]
  return wrk.format("GET", path)
end
