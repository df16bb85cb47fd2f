-- hyperstack.nvim: Hyperstack API keys in Neovim, through the hyperstack-rpc server.
-- The server is spawned with Neovim's own JSON-RPC client (vim.lsp.rpc), which speaks the
-- same LSP framing; no LSP client (vim.lsp.start_client) is involved because this is not a
-- language server.

local M = {}

--- Defaults; change them with require('hyperstack').setup({...}).
M.config = {
  --- Server command and arguments, e.g. { 'hyperstack-rpc', '--sandbox' }.
  --- vim.lsp.rpc copies the server's stderr into lsp.log at ERROR level, hence the quiet default.
  cmd = { vim.env.HYPERSTACK_RPC_BIN or 'hyperstack-rpc', '--log-level', 'warning' },
  --- Extra environment for the server. Put the key here (HYPERSTACK_API_KEY) or export it
  --- before starting Neovim; it is never passed on the command line.
  env = nil,
  --- Share one server among every editor, agent and script on the machine: 'auto' appends
  --- `--remote auto` to cmd (a thin forwarder to the per-user daemon, started when none runs);
  --- 'unix:PATH' uses the daemon on that socket, with no auto-start. nil or false: standalone,
  --- unless Neovim's environment sets HYPERSTACK_RPC_REMOTE (the server reads it itself).
  remote = nil,
  --- Show apiKeys.didChange notifications with vim.notify.
  notify_changes = true,
  --- Milliseconds the *_sync helpers wait.
  timeout = 15000,
  --- :HyperstackGenerate has the server write a new key's secret to a new 0600 file in its
  --- secrets directory (--secrets-dir; default $XDG_STATE_HOME/hyperstack-rpc/secrets) and
  --- reports the path, so the secret never enters Neovim, its messages or lsp.log. It needs a
  --- server whose initialize result has capabilities.apiKeys.secretFile; against an older one,
  --- or with this false, the command refuses rather than show the secret.
  use_secret_file = true,
}

local client = nil      -- the vim.lsp.rpc client, once spawned
local ready = false     -- true after the initialize reply
local queued = {}       -- requests made before the initialize reply
local stopping = false
local inflight = {}     -- token -> callback, so calls can fail when the server dies
local next_token = 0
local generation = 0     -- bumps per spawn, so a late on_exit cannot reset a newer server's state
local KEYS_BUFFER = 'hyperstack://keys'

--- Params must be a JSON object; an empty Lua table would encode as [] (-32602).
local function object(params)
  if params == nil or next(params) == nil then return vim.empty_dict() end
  return params
end

local function format_error(err)
  if type(err) ~= 'table' then return tostring(err) end
  return string.format('%s (%s)', err.message or 'error', tostring(err.code))
end

local function describe_change(change)
  return string.format('Hyperstack API keys changed (%s, revision %d): %d added, %d updated, %d removed',
    change.cause or '?', change.revision or -1, #(change.added or {}), #(change.updated or {}), #(change.removed or {}))
end

local function make_dispatchers(gen)
  return {
    notification = function(method, params)
      if method == 'apiKeys.didChange' then
        if M.config.notify_changes then vim.notify(describe_change(params), vim.log.levels.INFO) end
        local buf = vim.fn.bufnr(KEYS_BUFFER)
        if buf ~= -1 and vim.api.nvim_buf_is_loaded(buf) then M.keys(false, { open = false }) end
      end
    end,
    on_exit = function(code, signal)
      -- Not scheduled by vim.lsp.rpc: defer anything that touches the editor.
      vim.schedule(function()
        if gen ~= generation then return end
        M.capabilities = nil
        local expected = stopping
        client, ready, queued, stopping = nil, false, {}, false
        -- vim.lsp.rpc drops outstanding callbacks on exit; ours get an error instead of waiting forever.
        local orphans = inflight
        inflight = {}
        for _, callback in pairs(orphans) do
          callback({ code = 'server_exited', message = string.format('hyperstack-rpc exited (code %s, signal %s)',
            tostring(code), tostring(signal)) }, nil)
        end
        if not expected then
          vim.notify(string.format('hyperstack-rpc exited (code %s, signal %s); it restarts on the next command',
            tostring(code), tostring(signal)), vim.log.levels.WARN)
        end
      end)
    end,
    on_error = function(code, err)
      vim.notify('hyperstack-rpc: ' .. tostring(vim.lsp.rpc.client_errors[code] or code) .. ': ' .. vim.inspect(err),
        vim.log.levels.ERROR)
    end,
  }
end

--- vim.lsp.rpc.start changed shape in Neovim 0.10: (cmd, args, dispatchers, extra) before, ({cmd...}, dispatchers, extra) after.
local function spawn(cmd, extra)
  local dispatchers = make_dispatchers(generation)
  if vim.fn.has('nvim-0.10') == 1 then
    return vim.lsp.rpc.start(cmd, dispatchers, extra)
  end
  return vim.lsp.rpc.start(cmd[1], vim.list_slice(cmd, 2), dispatchers, extra)
end

--- Raises a clear error unless remote is nil, false, 'auto' or 'unix:PATH'.
local function check_remote(remote)
  if remote == nil or remote == false or remote == 'auto' then return end
  if type(remote) == 'string' and remote:match('^unix:[^%z]+$') then return end
  error(string.format("hyperstack: remote must be nil (standalone, or $HYPERSTACK_RPC_REMOTE if set), 'auto' "
    .. "(the shared daemon, started when needed) or 'unix:PATH' (the daemon listening on PATH), not %s",
    vim.inspect(remote)), 3)
end

--- The server's command line: config.cmd, then `--remote VALUE` when config.remote is set.
function M.command()
  check_remote(M.config.remote)
  local cmd = vim.deepcopy(M.config.cmd)
  if M.config.remote then vim.list_extend(cmd, { '--remote', M.config.remote }) end
  return cmd
end

--- Spawns the server (once) and sends initialize; later requests wait for its reply.
function M.start()
  if client then return client end
  local cmd = M.command()
  generation = generation + 1
  local rpc = spawn(cmd, { env = M.config.env })
  if not rpc then error('hyperstack-rpc could not be started with: ' .. table.concat(cmd, ' ')) end
  client, ready, queued = rpc, false, {}
  rpc.request('initialize', {
    processId = vim.fn.getpid(),
    clientInfo = { name = 'hyperstack.nvim', version = '0.1.0' },
  }, function(err, result)
    if err then
      vim.notify('hyperstack-rpc initialize failed: ' .. format_error(err), vim.log.levels.ERROR)
      queued = {}
      local orphans = inflight
      inflight = {}
      for _, callback in pairs(orphans) do callback(err, nil) end
      return
    end
    M.server_info = result and result.serverInfo
    M.capabilities = result and result.capabilities
    rpc.notify('initialized', vim.empty_dict())
    ready = true
    local waiting = queued
    queued = {}
    for _, send in ipairs(waiting) do send() end
  end)
  return client
end

--- Asynchronous request; callback(err, result) runs on the main loop.
function M.request(method, params, callback)
  callback = callback or function(err)
    if err then vim.notify(method .. ' failed: ' .. format_error(err), vim.log.levels.ERROR) end
  end
  local rpc = M.start()
  next_token = next_token + 1
  local token = next_token
  inflight[token] = callback
  local function finish(err, result)
    if inflight[token] == nil then return end
    inflight[token] = nil
    callback(err, result)
  end
  local function send()
    if not rpc.request(method, object(params), finish) then
      finish({ code = 'server_exited', message = 'hyperstack-rpc is not running' }, nil)
    end
  end
  if ready then send() else table.insert(queued, send) end
end

--- Blocking request (keeps the UI responsive via vim.wait). Returns result, err.
function M.request_sync(method, params, timeout)
  local done, result, failure = false, nil, nil
  M.request(method, params, function(err, res) done, result, failure = true, res, err end)
  if not vim.wait(timeout or M.config.timeout, function() return done end, 10) then
    return nil, { code = -32800, message = method .. ' timed out' }
  end
  return result, failure
end

function M.list(params, callback) M.request('apiKeys.list', params, callback) end

--- apiKeys.generate params; opts.secret_file asks the server to write the secret to that new file.
local function generate_params(name, description, opts)
  local secret_file = opts and opts.secret_file
  if secret_file ~= nil and (type(secret_file) ~= 'string' or secret_file == '') then
    error('hyperstack: secret_file must be a non-empty string, not ' .. vim.inspect(secret_file), 3)
  end
  return { name = name, description = description, secretFile = secret_file }
end

--- Without opts.secret_file the result's key.secret is shown once: store it somewhere safe, never in
--- a buffer that gets saved. With it, the server writes the secret to that new 0600 file (relative:
--- inside its --secrets-dir) and the result is {key, revision, secretFile} with no secret; a refused
--- path is error -32602 with data.field 'secretFile', and 1505 names a key created whose file could
--- not be written (delete it). See supports_secret_file().
function M.generate(name, description, callback, opts)
  M.request('apiKeys.generate', generate_params(name, description, opts), callback)
end
function M.update(id, name, description, callback) M.request('apiKeys.update', { id = id, name = name, description = description }, callback) end
function M.delete(id, callback) M.request('apiKeys.delete', { id = id }, callback) end
function M.watch(interval, callback) M.request('apiKeys.watch', { interval = interval }, callback) end

function M.generate_sync(name, description, timeout, opts)
  return M.request_sync('apiKeys.generate', generate_params(name, description, opts), timeout)
end

--- True when the running server's generate takes secretFile (capabilities.apiKeys.secretFile).
function M.supports_secret_file()
  local api_keys = type(M.capabilities) == 'table' and M.capabilities.apiKeys or nil
  return type(api_keys) == 'table' and api_keys.secretFile == true
end

--- A new, relative file name for the secret of the key `name` (as the Emacs client makes them):
--- no slash, so the server puts it in its secrets directory, and creates it, never overwriting.
function M.secret_file_name(name)
  local stem = name:gsub('[^%w_.-]+', '-'):sub(1, 60)
  local now = vim.loop.hrtime()
  return string.format('%s-%s%03d.secret', stem, os.date('!%Y%m%dT%H%M%S'), math.floor(now / 1e6) % 1000)
end

--- Runs fn once the server has answered initialize (so its capabilities are known).
local function when_ready(fn)
  M.start()
  if ready then fn() else table.insert(queued, fn) end
end

--- :HyperstackGenerate NAME [DESCRIPTION]: the server writes the new key's secret to a new 0600
--- file and the message gives its path; the secret never enters Neovim. Refuses against a server
--- without secretFile (or with config.use_secret_file off) rather than show the secret.
--- callback(err, result), if given, runs after the message.
function M.generate_command(name, description, callback)
  callback = callback or function() end
  if type(name) ~= 'string' or name == '' then
    vim.notify('Usage: :HyperstackGenerate NAME [DESCRIPTION]', vim.log.levels.ERROR)
    return callback({ code = 'usage', message = 'a name is required' }, nil)
  end
  when_ready(function()
    if not (M.config.use_secret_file and M.supports_secret_file()) then
      local why = M.config.use_secret_file and 'this hyperstack-rpc cannot write secret files (no capabilities.apiKeys.secretFile); upgrade it'
        or 'use_secret_file is off'
      vim.notify('Hyperstack: not generating ' .. name .. ': ' .. why
        .. '. The secret would otherwise pass through Neovim; use require("hyperstack").generate() to get it inline.',
        vim.log.levels.ERROR)
      return callback({ code = 'no_secret_file', message = why }, nil)
    end
    M.generate(name, description, function(err, result)
      if err then
        local data = type(err.data) == 'table' and err.data or {}
        if err.code == 1505 and type(data.key) == 'table' then
          vim.notify(string.format('Hyperstack: key %s (id %s) was created, but its secret could not be written to %s '
            .. '(%s); nobody has it: delete the key and generate another', tostring(data.key.name), tostring(data.key.id),
            tostring(data.secretFile), tostring(data.reason)), vim.log.levels.ERROR)
        else
          vim.notify('Hyperstack: could not generate ' .. name .. ': ' .. format_error(err), vim.log.levels.ERROR)
        end
        return callback(err, nil)
      end
      vim.notify(string.format('Hyperstack: generated key %s (id %d); its secret is in %s (mode 0600). '
        .. 'Move it where it belongs, then delete the file.', result.key.name, result.key.id, result.secretFile),
        vim.log.levels.INFO)
      callback(nil, result)
    end, { secret_file = M.secret_file_name(name) })
  end)
end

--- Lines for the keys buffer: one key per line, id first so it can be picked up with <cword>.
function M.format_keys(result)
  local lines = { string.format('# Hyperstack API keys (revision %d%s)', result.revision or -1,
    result.fromCache and ', cached' or ''), '' }
  if #result.keys == 0 then table.insert(lines, '(no keys)') end
  for _, key in ipairs(result.keys) do
    local description = key.description
    if description == nil or description == vim.NIL then description = '' end
    local created = key.createdAt
    if created == nil or created == vim.NIL then created = '-' end
    local masked = key.maskedKey
    if masked == nil or masked == vim.NIL then masked = '-' end
    -- A name may contain newlines; a buffer line may not.
    local text = string.format('%-8d %-20s %-22s %s  %s', key.id, created, masked, key.name, description)
    table.insert(lines, (text:gsub('\n', ' ')))
  end
  return lines
end

local function show(lines, open)
  local buf = vim.fn.bufnr(KEYS_BUFFER)
  if buf == -1 then
    buf = vim.api.nvim_create_buf(true, true)
    vim.api.nvim_buf_set_name(buf, KEYS_BUFFER)
    vim.bo[buf].buftype = 'nofile'
    vim.bo[buf].bufhidden = 'hide'
    vim.bo[buf].swapfile = false
    vim.bo[buf].filetype = 'hyperstack-keys'
  end
  vim.bo[buf].modifiable = true
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].modifiable = false
  if open and vim.fn.bufwinnr(buf) == -1 then vim.cmd('sbuffer ' .. buf) end
  return buf
end

--- :HyperstackKeys[!] — list keys in a scratch buffer; ! asks the server to refresh from the API.
--- opts.open = false re-renders the buffer without showing it (used on didChange).
function M.keys(refresh, opts)
  local open = not (opts and opts.open == false)
  M.list(refresh and { refresh = true } or nil, function(err, result)
    if err then
      vim.notify('Could not list Hyperstack API keys: ' .. format_error(err), vim.log.levels.ERROR)
      return
    end
    show(M.format_keys(result), open)
  end)
end

--- Sends shutdown, then exit; the server process ends and on_exit resets the state.
function M.stop()
  if not client then return end
  local rpc = client
  stopping = true
  rpc.request('shutdown', nil, function() rpc.notify('exit', nil) end)
end

--- True while a server process is attached.
function M.is_running() return client ~= nil end

function M.setup(opts)
  check_remote((opts or {}).remote)
  M.config = vim.tbl_deep_extend('force', M.config, opts or {})
end

return M
