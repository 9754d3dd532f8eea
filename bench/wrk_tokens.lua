-- Shared by the bench wrk scripts (loaded with dofile, which returns the function): the bearer
-- tokens of BENCH_TOKENS, a file of one token a line, line i for user i (bench/run's
-- mint_tokens writes it). Returns nil when BENCH_TOKENS is unset; fails when the file has
-- fewer than `users` tokens. Each wrk thread has its own Lua state: call it in init().
return function(users)
  local path = os.getenv("BENCH_TOKENS") or ""
  if path == "" then
    return nil
  end
  local f = io.open(path, "r")
  if not f then
    error("BENCH_TOKENS: cannot open " .. path)
  end
  local t = {}
  for line in f:lines() do
    t[#t + 1] = (line:gsub("%s+$", ""))
  end
  f:close()
  if #t < users then
    error(string.format("BENCH_TOKENS: %d tokens in %s for %d users", #t, path, users))
  end
  return t
end
