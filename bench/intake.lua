-- wrk script of the paired intake benchmark: one appeal per request, as a phone-line operator
-- files it through the API. YONGXIN_TOKEN, when set, is sent as the bearer token.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local token = os.getenv("YONGXIN_TOKEN")
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end
wrk.body = '{"category":"other","channel":"phone","description":"压测诉求：路灯不亮，请尽快修理","contact_name":"压测","contact_phone":"13900000000"}'
