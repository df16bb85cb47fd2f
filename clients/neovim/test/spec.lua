-- Runs inside `nvim --headless` (see run.sh). Exits 0 on success, 1 with a traceback on failure.
local harness = dofile(vim.env.HYPERSTACK_TEST_DIR .. '/harness.lua')
local check = harness.check

local function run()
  vim.cmd('runtime plugin/hyperstack.lua')
  check(vim.fn.exists(':HyperstackKeys') == 2, ':HyperstackKeys was not defined by plugin/hyperstack.lua')

  local notes = {}
  vim.notify = function(message, level) table.insert(notes, { message = message, level = level }) end

  local hs = require('hyperstack')

  -- remote: appended to cmd as --remote VALUE; anything but nil, false, 'auto' or 'unix:PATH' is refused in setup.
  hs.setup({ cmd = { 'hyperstack-rpc', '--log-level', 'warning' }, remote = 'auto' })
  check(vim.deep_equal(hs.command(), { 'hyperstack-rpc', '--log-level', 'warning', '--remote', 'auto' }),
    'remote = auto gave ' .. vim.inspect(hs.command()))
  check(#hs.config.cmd == 3, 'command() changed config.cmd: ' .. vim.inspect(hs.config.cmd))
  hs.setup({ remote = 'unix:/tmp/hs.sock' })
  check(vim.deep_equal(vim.list_slice(hs.command(), 4), { '--remote', 'unix:/tmp/hs.sock' }), vim.inspect(hs.command()))
  for _, bad in ipairs({ '', 'AUTO', 'auto ', 'unix:', 'unix', 'unix:/tmp/a\0b', 'tcp:127.0.0.1:1', 1, true }) do
    local refused, message = pcall(hs.setup, { remote = bad })
    check(not refused and tostring(message):find("remote must be nil", 1, true), 'remote = ' .. vim.inspect(bad)
      .. ' was not refused: ' .. tostring(message))
  end
  check(hs.config.remote == 'unix:/tmp/hs.sock', 'a refused setup changed the config')
  hs.setup({ remote = false })
  check(not vim.tbl_contains(hs.command(), '--remote'), 'remote = false still passes --remote')

  hs.setup({ cmd = { vim.env.HYPERSTACK_TEST_BIN, '--sandbox' } })

  local name = 'nvim-test-é-' .. vim.fn.getpid() .. '-' .. vim.loop.hrtime()
  local generated, err = hs.generate_sync(name, 'from the neovim test', 20000)
  check(err == nil, 'generate failed: ' .. vim.inspect(err))
  check(generated.key.name == name, 'generate returned ' .. vim.inspect(generated.key.name))
  local secret = generated.key.secret
  check(type(secret) == 'string' and #secret > 0, 'generate did not return a secret')

  -- Empty params must go out as {} (an empty Lua table would encode as []).
  local listed, list_err = hs.request_sync('apiKeys.list', {})
  check(list_err == nil, 'list with {} failed: ' .. vim.inspect(list_err))

  vim.cmd('HyperstackKeys')
  local buf
  local found = vim.wait(20000, function()
    buf = vim.fn.bufnr('hyperstack://keys')
    if buf == -1 then return false end
    for _, line in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
      if line:find(name, 1, true) then return true end
    end
    return false
  end, 20)
  check(found, 'the keys buffer does not list ' .. name .. '; buffer: '
    .. vim.inspect(buf ~= -1 and vim.api.nvim_buf_get_lines(buf, 0, -1, false) or 'missing'))
  local lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  check(#lines - 2 == #listed.keys, string.format('buffer has %d key lines, list returned %d', #lines - 2, #listed.keys))
  check(lines[3]:match('^' .. tostring(listed.keys[1].id)) ~= nil, 'key lines start with the id: ' .. lines[3])
  check(not table.concat(lines, '\n'):find(secret, 1, true), 'the secret leaked into the keys buffer')
  check(vim.bo[buf].buftype == 'nofile', 'keys buffer is not a scratch buffer')

  -- The generate's apiKeys.didChange became a message.
  local saw_change = vim.wait(5000, function()
    for _, note in ipairs(notes) do
      if note.message:find('changed (generate', 1, true) then return true end
    end
    return false
  end, 20)
  check(saw_change, 'no didChange notification was shown; notes: ' .. vim.inspect(notes))
  for _, note in ipairs(notes) do
    check(not note.message:find(secret, 1, true), 'the secret leaked into a notification')
  end

  -- A deletion re-renders the open buffer through didChange.
  local _, delete_err = hs.request_sync('apiKeys.delete', { id = generated.key.id })
  check(delete_err == nil, 'delete failed: ' .. vim.inspect(delete_err))
  local gone = vim.wait(10000, function()
    return not table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n'):find(name, 1, true)
  end, 20)
  check(gone, 'the keys buffer was not refreshed after delete')

  -- Errors come back as JSON-RPC error objects.
  local _, missing = hs.request_sync('apiKeys.update', { id = 999999, name = 'ghost' })
  check(missing and missing.code == 1404, 'update of a missing id: ' .. vim.inspect(missing))

  hs.stop()
  check(vim.wait(10000, function() return not hs.is_running() end, 20), 'the server did not exit after :HyperstackStop')
  for _, note in ipairs(notes) do
    check(not note.message:find('exited', 1, true), 'a requested stop was reported as a crash: ' .. note.message)
  end
end

harness.main('neovim', run)
