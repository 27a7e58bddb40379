-- Shared by the scenario scripts of bench/outside: the tenancy and API key from the
-- environment, a number per wrk thread, and one machine-readable result line at the end.

api_headers = {
  ["Authorization"] = "Bearer " .. assert(os.getenv("BENCH_API_KEY"), "BENCH_API_KEY is not set"),
  ["Content-Type"] = "application/json",
}
tenancy = assert(os.getenv("BENCH_TENANCY"), "BENCH_TENANCY is not set")
thread_count = assert(tonumber(os.getenv("BENCH_THREADS")), "BENCH_THREADS is not set")

-- setup() runs in the main Lua state once per thread, before the thread's init().
local threads = {}
function setup(thread)
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end

-- The lines of `path`, as a table of strings.
function read_lines(path)
  local lines = {}
  for line in io.lines(path) do
    lines[#lines + 1] = line
  end
  return lines
end

-- Sums a per-thread global over the threads (called from done()).
function sum_over_threads(name)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + (thread:get(name) or 0)
  end
  return total
end

function all_threads()
  return threads
end

-- One line bench/outside parses: rate, latency percentiles (µs) and errors of every kind.
function report(summary, latency, extra)
  local e = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format(
    "RESULT requests=%d seconds=%.3f rps=%.1f p50_us=%d p99_us=%d max_us=%d "
      .. "status_errors=%d connect_errors=%d read_errors=%d write_errors=%d timeouts=%d%s\n",
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50), latency:percentile(99), latency.max,
    e.status, e.connect, e.read, e.write, e.timeout, extra or ""))
end

function done(summary, latency, requests)
  report(summary, latency)
end
