-- Runs inside `nvim --headless` (see run.sh). Exits 0 on success, 1 with a traceback on failure.
local harness = dofile(vim.env.HYPERSTACK_TEST_DIR .. '/harness.lua')
local check = harness.check

local secret_files

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

  secret_files(hs, notes)
end

--- Waits for a message containing `text`; returns it.
local function note_with(notes, text, timeout)
  local found
  vim.wait(timeout or 20000, function()
    for _, note in ipairs(notes) do
      if note.message:find(text, 1, true) then found = note return true end
    end
    return false
  end, 20)
  return found
end

local function all_buffer_text()
  local parts = {}
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(buf) then
      table.insert(parts, table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n'))
    end
  end
  return table.concat(parts, '\n')
end

local function read_file(path)
  local file = assert(io.open(path, 'rb'))
  local text = file:read('*a')
  file:close()
  return text
end

local function stop(hs)
  hs.stop()
  check(vim.wait(10000, function() return not hs.is_running() end, 20), 'the server did not stop')
end

--- :HyperstackGenerate writes the secret to a 0600 file through the server's secretFile and reports
--- the path; the secret is in no buffer, message or lsp.log (logging the traffic at debug level).
secret_files = function(hs, notes)
  local secrets_dir = vim.fn.tempname()
  vim.fn.mkdir(secrets_dir, 'p', tonumber('700', 8))
  vim.lsp.set_log_level('debug') -- vim.lsp.rpc then writes every message to lsp.log
  hs.setup({ cmd = { vim.env.HYPERSTACK_TEST_BIN, '--sandbox', '--secrets-dir', secrets_dir } })
  for k in pairs(notes) do notes[k] = nil end

  local name = 'nvim-secret-' .. vim.fn.getpid()
  vim.cmd('HyperstackGenerate ' .. name .. ' written to a file')
  local note = note_with(notes, 'generated key ' .. name)
  check(note, 'no message for the generated key; notes: ' .. vim.inspect(notes))
  check(hs.supports_secret_file(), 'the server did not report capabilities.apiKeys.secretFile')
  local path = note.message:match('its secret is in (%S+) %(mode 0600%)')
  check(path and path:sub(1, #secrets_dir + 1) == secrets_dir .. '/', 'the message gives no path in the secrets dir: ' .. note.message)
  local stat = vim.loop.fs_stat(path)
  check(stat and stat.type == 'file', 'no secret file at ' .. tostring(path))
  check(stat.mode % 512 == tonumber('600', 8), string.format('secret file mode %o, want 600', stat.mode % 512))
  local contents = read_file(path)
  check(contents:match('^[^\n]+\n$'), 'the file should hold the secret and a newline')
  local secret = contents:sub(1, -2)

  local listed = hs.request_sync('apiKeys.list', { refresh = true })
  local key
  for _, k in ipairs(listed.keys) do if k.name == name then key = k end end
  check(key and key.description == 'written to a file', 'the key is not listed: ' .. vim.inspect(listed))
  check(key.maskedKey:sub(-4) == secret:sub(-4), 'the file holds another secret than the key\'s')

  -- A refused path: -32602 on the field secretFile, and no key.
  local _, refused = hs.generate_sync(name .. '-refused', nil, 20000, { secret_file = '../escape.secret' })
  check(refused and refused.code == -32602 and refused.data.field == 'secretFile', 'a .. path: ' .. vim.inspect(refused))
  local again = hs.request_sync('apiKeys.list', { refresh = true })
  check(#again.keys == #listed.keys, 'a refused secretFile created a key')

  -- With use_secret_file off the command refuses instead of showing a secret.
  hs.setup({ use_secret_file = false })
  local done, outcome = false, nil
  hs.generate_command(name .. '-inline', nil, function(err) done, outcome = true, err end)
  check(vim.wait(10000, function() return done end, 20) and outcome and outcome.code == 'no_secret_file',
    'use_secret_file = false did not refuse: ' .. vim.inspect(outcome))
  check(#hs.request_sync('apiKeys.list', { refresh = true }).keys == #listed.keys, 'the refused command created a key')
  hs.setup({ use_secret_file = true })

  stop(hs)
  local log = read_file(vim.lsp.get_log_path())
  check(log:find(name, 1, true), 'lsp.log has no trace of the traffic: the leak check would be vacuous')
  check(not log:find(secret, 1, true), 'the secret is in lsp.log')
  check(not all_buffer_text():find(secret, 1, true), 'the secret is in a buffer')
  for _, n in ipairs(notes) do check(not n.message:find(secret, 1, true), 'the secret is in a message') end
  check(not vim.fn.execute('messages'):find(secret, 1, true), 'the secret is in :messages')

  -- The key was created but its file could not be written (ulimit -f 0, as on a full disk): 1505 names it.
  hs.setup({ cmd = { 'sh', '-c', 'trap "" XFSZ; ulimit -f 0; exec "$0" "$@"', vim.env.HYPERSTACK_TEST_BIN,
    '--sandbox', '--secrets-dir', secrets_dir } })
  for k in pairs(notes) do notes[k] = nil end
  local lost_done, lost = false, nil
  hs.generate_command('nvim-lost', nil, function(err) lost_done, lost = true, err end)
  check(vim.wait(20000, function() return lost_done end, 20), 'no answer to the generate without room')
  check(lost and lost.code == 1505 and lost.data.key.name == 'nvim-lost', '1505 expected: ' .. vim.inspect(lost))
  local lost_note = note_with(notes, 'was created, but its secret could not be written')
  check(lost_note and lost_note.message:find('id ' .. lost.data.key.id, 1, true), 'the message does not name the key: '
    .. vim.inspect(notes))
  stop(hs)
  vim.fn.delete(secrets_dir, 'rf')
end

harness.main('neovim', run)
