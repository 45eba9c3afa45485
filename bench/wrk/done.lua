-- Appended to every wrk script of bench/load.py: one BENCH_JSON line with the summary, the latency
-- percentiles, the status codes and what the threads counted.
function done(summary, latency, requests)
  local all, extra = {}, {}
  for _, t in ipairs(threads) do
    local c = t:get("codes")
    if c then for k, v in pairs(c) do all[k] = (all[k] or 0) + v end end
    for _, name in ipairs({"moved_submit", "moved_return", "healed"}) do
      local v = t:get(name)
      if v then extra[name] = (extra[name] or 0) + v end
    end
  end
  local codes, more = {}, {}
  for k, v in pairs(all) do codes[#codes + 1] = string.format('"%d":%d', k, v) end
  for k, v in pairs(extra) do more[#more + 1] = string.format('"%s":%d', k, v) end
  local e = summary.errors
  io.write(string.format(
    '\nBENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"min":%d,"mean":%.1f,"max":%d,"stdev":%.1f,"p50":%d,"p90":%d,"p99":%d,"p999":%d},' ..
    '"codes":{%s},"extra":{%s}}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.max, latency.stdev, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9), table.concat(codes, ","), table.concat(more, ",")))
end
