-- What every spec run by run.sh shares: the check, and the exit status nvim --headless ends with.
local M = {}

--- Fails the spec with `message`, pointing at the caller's line.
function M.check(condition, message)
  if not condition then error(message, 2) end
end

--- Runs `spec`; exits 0 saying so, or 1 with the traceback on stderr.
function M.main(label, spec)
  local ok, failure = xpcall(spec, debug.traceback)
  if ok then
    io.stdout:write(label .. ': all checks passed\n')
    vim.cmd('qall!')
  else
    io.stderr:write(label .. ': FAILED\n' .. tostring(failure) .. '\n')
    vim.cmd('cquit 1')
  end
end

return M
