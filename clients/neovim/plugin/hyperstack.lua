-- User commands for hyperstack.nvim; the server starts lazily on first use.
if vim.g.loaded_hyperstack then return end
vim.g.loaded_hyperstack = true

vim.api.nvim_create_user_command('HyperstackKeys', function(opts)
  require('hyperstack').keys(opts.bang)
end, { bang = true, desc = 'List Hyperstack API keys in a scratch buffer (! refreshes from the API)' })

vim.api.nvim_create_user_command('HyperstackGenerate', function(opts)
  local name, description = opts.args:match('^(%S+)%s*(.*)$')
  require('hyperstack').generate_command(name, description ~= '' and description or nil)
end, { nargs = '+', desc = 'Generate an API key NAME [DESCRIPTION]; its secret goes to a new 0600 file, the path is shown' })

vim.api.nvim_create_user_command('HyperstackWatch', function(opts)
  require('hyperstack').watch(tonumber(opts.args) or 0)
end, { nargs = '?', desc = 'Poll for API key changes every N seconds (0 stops)' })

vim.api.nvim_create_user_command('HyperstackStop', function()
  require('hyperstack').stop()
end, { desc = 'Stop the hyperstack-rpc server' })
