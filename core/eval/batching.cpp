#include "batching.h"

#include "jobs/jobcontext.h"
#include "model/decoder.h"

#include <ATen/ATen.h>
#include <algorithm>
#include <map>

namespace blockscope {

std::vector<std::vector<std::size_t>> equalShapeBatches(const WindowSet &set, std::size_t per)
{
    per = std::max<std::size_t>(per, 1);
    std::map<std::pair<std::size_t, std::int64_t>, std::vector<std::size_t>> byShape;
    for (std::size_t i = 0; i < set.windows.size(); ++i)
        byShape[{set.windows[i].ids.size(), set.windows[i].firstTarget}].push_back(i);
    std::vector<std::vector<std::size_t>> out;
    for (auto &[shape, idx] : byShape)
        for (std::size_t at = 0; at < idx.size(); at += per)
            out.emplace_back(idx.begin() + at, idx.begin() + std::min(idx.size(), at + per));
    return out;
}

at::Tensor batchTokens(const WindowSet &set, const std::vector<std::size_t> &idx)
{
    const auto T = static_cast<std::int64_t>(set.windows[idx.front()].ids.size());
    at::Tensor t = at::empty({static_cast<std::int64_t>(idx.size()), T}, at::kLong);
    auto acc = t.accessor<std::int64_t, 2>();
    for (std::size_t b = 0; b < idx.size(); ++b)
        for (std::int64_t p = 0; p < T; ++p)
            acc[static_cast<std::int64_t>(b)][p] = set.windows[idx[b]].ids[p];
    return t;
}

at::Tensor forwardBlocksCancellable(
    const Decoder &decoder, at::Tensor hidden, int first, int last, const UnitMask &mask, const JobContext *job)
{
    for (int block = first; block < last; ++block) {
        if (job)
            job->checkpoint();
        hidden = decoder.forwardBlocks(hidden, block, block + 1, mask);
    }
    return hidden;
}

} // namespace blockscope
