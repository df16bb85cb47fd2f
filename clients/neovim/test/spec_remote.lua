-- Runs inside `nvim --headless` (see run.sh), with an XDG_RUNTIME_DIR of its own: remote = 'auto'
-- against the real shared daemon (issue 12). Fails, never skips, on a server without --remote.
local harness = dofile(vim.env.HYPERSTACK_TEST_DIR .. '/harness.lua')
local check = harness.check

local bin = vim.env.HYPERSTACK_TEST_BIN

--- Runs `hyperstack-rpc ARGS` to completion; returns its stdout and exit status.
local function run(args)
  local output = vim.fn.system(vim.list_extend({ bin }, args))
  return output, vim.v.shell_error
end

local function daemon_status()
  local output, status = run({ 'daemon', 'status' })
  check(status == 0, 'daemon status exited ' .. status .. ': ' .. output)
  return vim.fn.json_decode(output)
end

local function run_spec()
  vim.cmd('runtime plugin/hyperstack.lua')
  local notes = {}
  vim.notify = function(message, level) table.insert(notes, { message = message, level = level }) end

  local hs = require('hyperstack')
  hs.setup({ cmd = { bin, '--sandbox' }, remote = 'auto' })

  local name = 'nvim-remote-' .. vim.fn.getpid() .. '-' .. vim.loop.hrtime()
  local generated, err = hs.generate_sync(name, nil, 20000)
  check(err == nil, 'generate through remote = auto failed: ' .. vim.inspect(err))

  local status = daemon_status()
  check(vim.startswith(status.socket, vim.env.XDG_RUNTIME_DIR .. '/hyperstack-rpc/daemon-'), 'socket ' .. status.socket)
  check(status.sessions == 1, 'daemon sessions: ' .. vim.inspect(status.sessions))
  check(#status.stores == 1 and status.stores[1].upstream == 'sandbox', 'stores: ' .. vim.inspect(status.stores))

  vim.cmd('HyperstackKeys')
  local buf
  local listed = vim.wait(20000, function()
    buf = vim.fn.bufnr('hyperstack://keys')
    return buf ~= -1 and table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n'):find(name, 1, true) ~= nil
  end, 20)
  check(listed, 'the keys buffer does not list ' .. name)

  -- Another client of the same daemon (a shell one-shot) generates a key: Neovim is told at once, with no
  -- polling (no :HyperstackWatch), and the open buffer is redrawn. Standalone, the one-shot's --sandbox would
  -- be a sandbox of its own that Neovim never sees.
  local other = name .. '-from-the-shell'
  local output, status_code = run({ 'call', 'apiKeys.generate', vim.fn.json_encode({ name = other }), '--sandbox',
    '--remote', 'auto', '--log-level', 'error' })
  check(status_code == 0, 'call --remote auto exited ' .. status_code .. ': ' .. output)
  local secret = vim.fn.json_decode(output).key.secret
  local redrawn = vim.wait(10000, function()
    return table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n'):find(other, 1, true) ~= nil
  end, 20)
  check(redrawn, 'the shell one-shot\'s key never reached the keys buffer; notes: ' .. vim.inspect(notes))
  local generates = 0
  for _, note in ipairs(notes) do
    if note.message:find('changed (generate', 1, true) then generates = generates + 1 end
    check(not note.message:find(secret, 1, true), 'the one-shot\'s secret leaked into a notification')
  end
  check(generates == 2, 'expected a didChange notification for each generate; notes: ' .. vim.inspect(notes))
  check(not table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n'):find(generated.key.secret, 1, true),
    'the secret leaked into the keys buffer')

  hs.stop()
  check(vim.wait(10000, function() return not hs.is_running() end, 20), 'the forwarder did not exit after :HyperstackStop')
end

harness.main('neovim (remote = auto)', run_spec)
