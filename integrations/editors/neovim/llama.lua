-- llama.vim under lazy.nvim, against `reviewer fim-server`
-- (start it in the repository you edit:  reviewer fim-server --repo .)
--
-- fim-server speaks llama.cpp's /infill, so the plugin works unchanged.
-- Put this file in ~/.config/nvim/lua/plugins/.

local base = vim.env.REVIEWER_FIM_URL or "http://127.0.0.1:8012"

return {
  "ggml-org/llama.vim",
  init = function()
    vim.g.llama_config = {
      endpoint = base .. "/infill",      -- older llama.vim
      endpoint_fim = base .. "/infill",  -- newer llama.vim
      api_key = vim.env.REVIEWER_FIM_TOKEN or "",  -- only with `fim-server --token`
      n_prefix = 256,
      n_suffix = 64,
      n_predict = 128,
      t_max_prompt_ms = 500,
      t_max_predict_ms = 1000,
    }
  end,
}
