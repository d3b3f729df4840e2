-- wrk script: POST /api/v1/tickets with varied Chinese and English bodies.
-- The token comes from the TOKEN environment variable.
wrk.method = "POST"
wrk.path = "/api/v1/tickets"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
local subjects = {
  "我的包裹三天了还没到", "refund not received after return", "无法登录我的账户",
  "payment failed twice", "商品质量有问题，要求换货", "change delivery address",
}
local n = 0
request = function()
  n = n + 1
  local body = string.format(
    '{"channel":"api","customer":{"id":"bench-%d"},"subject":"%s #%d","priority":"normal","tags":["bench"]}',
    n, subjects[(n % #subjects) + 1], n)
  return wrk.format(nil, nil, nil, body)
end
