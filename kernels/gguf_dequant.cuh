#pragma once

// Dequantisation of ggml block formats on the GPU: one thread per value, with the formulas of
// gguf_blocks.cuh that the CPU path (core/model/ggmlquants.cpp) uses too, so the float32 values
// are the same bits. CPU reference: blockscope::dequantiseBlocks.

#include <cstdint>
#include <cuda_runtime_api.h>

enum bs_dequant_out : int { BS_DEQUANT_F32 = 0, BS_DEQUANT_F16 = 1, BS_DEQUANT_BF16 = 2 };

// Whether ggml type `ggml_type` (the id GGUF stores) is one the kernel reads.
bool bs_gguf_can_dequantise(int ggml_type);

// Reads `blocks` whole blocks of `ggml_type` at `src` (device memory) into
// blocks × elements-per-block values at `dst` (device memory) as float32, float16 or bfloat16
// (rounded to nearest even from the float32 value). Returns cudaErrorInvalidValue for a type the
// kernel does not read or a negative count, else the launch error.
cudaError_t bs_gguf_dequantise(
    int ggml_type, const void *src, std::int64_t blocks, void *dst, bs_dequant_out out, cudaStream_t stream);
