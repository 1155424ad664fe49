#pragma once

// Element types of the attention launchers (block_sparse_attention.cuh, attention_blockmax.cuh).

enum class bs_attn_dtype : int { f32 = 0, f16 = 1, bf16 = 2 };
