-- minuet-ai.nvim (https://github.com/milanglacier/minuet-ai.nvim) against `reviewer fim-server`,
-- through its OpenAI-FIM-compatible provider: POST /v1/completions with `prompt` and `suffix`.
-- Start the server in the repository you edit:  reviewer fim-server --repo .
-- Put this file in ~/.config/nvim/lua/plugins/.

return {
  "milanglacier/minuet-ai.nvim",
  dependencies = { "nvim-lua/plenary.nvim" },
  config = function()
    require("minuet").setup({
      provider = "openai_fim_compatible",
      n_completions = 1,         -- fim-server answers one completion per request
      context_window = 4096,     -- characters around the cursor; fim-server adds repository context
      request_timeout = 5,
      provider_options = {
        openai_fim_compatible = {
          name = "reviewer",
          end_point = "http://127.0.0.1:8012/v1/completions",
          -- the NAME of an environment variable holding the token (fim-server --token);
          -- any variable that is set works when the server has no token
          api_key = "TERM",
          model = "fim",           -- fim-server uses its own upstream model
          stream = true,
          optional = { max_tokens = 128, stop = { "\n\n\n" } },
        },
      },
      virtualtext = { auto_trigger_ft = { "*" } },
    })
  end,
}
