" llama.vim (https://github.com/ggml-org/llama.vim) against `reviewer fim-server`.
"
" fim-server speaks llama.cpp's /infill, so llama.vim works unchanged: only the endpoint moves.
" Start the server in the repository you edit (DEEPSEEK_API_KEY set, or --backend/--base-url):
"
"     reviewer fim-server --repo .
"
" Put this in ~/.vimrc (Vim 9.1+) or init.vim (Neovim) before the plugin loads.
" Older llama.vim reads `endpoint`, newer `endpoint_fim`: both are set.

let g:llama_config = {
    \ 'endpoint':         'http://127.0.0.1:8012/infill',
    \ 'endpoint_fim':     'http://127.0.0.1:8012/infill',
    \ 'api_key':          '',
    \ 'n_prefix':         256,
    \ 'n_suffix':         64,
    \ 'n_predict':        128,
    \ 't_max_prompt_ms':  500,
    \ 't_max_predict_ms': 1000,
    \ 'ring_n_chunks':    16,
    \ 'ring_chunk_size':  64,
    \ }

" The repository context (definitions behind the names near the cursor, imported modules,
" recent edits) is added by fim-server; llama.vim's own ring buffer of chunks is still sent and
" used after it. With `reviewer fim-server --token TOKEN`, set 'api_key' to TOKEN.
