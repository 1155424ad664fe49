#pragma once

// Summary statistics of a float32 array on the GPU (min, max, sum, sum of squares, zero, NaN and
// Inf counts). CPU reference: blockscope::computeTensorStats in core/model/tensorstats.cpp.

#include <cstddef>
#include <cstdint>
#include <cuda_runtime_api.h>

struct bs_stats_partial
{
    double sum;
    double sum_sq;
    float min;
    float max;
    unsigned long long finite;
    unsigned long long zeros;
    unsigned long long nans;
    unsigned long long infs;
};

// Number of partial records the launcher needs in `partials` for n elements.
int bs_tensor_stats_partial_count(int64_t n);

// Reduces x[0..n) into out[0] (device memory). `partials` is device scratch of
// bs_tensor_stats_partial_count(n) records. Returns cudaSuccess or the launch error.
cudaError_t bs_tensor_stats_f32(
    const float *x, int64_t n, bs_stats_partial *partials, bs_stats_partial *out, cudaStream_t stream);
