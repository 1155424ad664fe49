#include "tensorstats.h"

#include "common/mappedfile.h"
#include "jobs/jobcontext.h"
#include "modelhandle.h"
#include "tensorvalues.h"

#include <cmath>
#include <vector>

namespace blockscope {

namespace {
constexpr std::uint64_t chunkElements = 1u << 20; // about 4 MB of float32: well under a second
}

TensorStats computeTensorStats(const ModelHandle &model, const TensorInfo &tensor, JobContext *job)
{
    if (!tensor.loadable || !dtypeIsFloatReadable(tensor.dtype))
        throw std::invalid_argument(
            "tensor " + tensor.name + " of type " + tensor.storageType + " has no float values to summarise");
    const auto raw = model.data(tensor);
    const std::uint64_t n = tensor.elementCount();
    TensorStats s;
    s.count = n;
    // Welford's update per chunk (Chan et al. merge) keeps the variance accurate for large tensors.
    double mean = 0, m2 = 0, sumSq = 0;
    std::uint64_t finite = 0, zeros = 0;
    double mn = INFINITY, mx = -INFINITY;
    std::vector<float> buf(std::min<std::uint64_t>(n, chunkElements));
    for (std::uint64_t first = 0; first < n; first += chunkElements) {
        if (job)
            job->checkpoint();
        const std::uint64_t count = std::min<std::uint64_t>(chunkElements, n - first);
        readAsFloat32(tensor.dtype, raw, first, count, buf.data());
        // Bounded memory on checkpoints larger than RAM: the pages just read leave the resident set.
        if (const auto block = dtypeBlock(tensor.dtype))
            MappedFile::releasePages(
                raw.subspan(first / block->elements * block->bytes, count / block->elements * block->bytes));
        double cMean = 0, cM2 = 0;
        std::uint64_t cN = 0;
        for (std::uint64_t i = 0; i < count; ++i) {
            const double x = buf[i];
            if (std::isnan(x)) {
                ++s.nanCount;
                continue;
            }
            if (std::isinf(x)) {
                ++s.infCount;
                continue;
            }
            zeros += x == 0;
            mn = std::min(mn, x);
            mx = std::max(mx, x);
            sumSq += x * x;
            ++cN;
            const double delta = x - cMean;
            cMean += delta / cN;
            cM2 += delta * (x - cMean);
        }
        if (cN > 0) {
            const double total = static_cast<double>(finite + cN);
            const double delta = cMean - mean;
            mean += delta * cN / total;
            m2 += cM2 + delta * delta * static_cast<double>(finite) * cN / total;
            finite += cN;
        }
        if (job)
            job->progress(static_cast<double>(first + count), static_cast<double>(n));
    }
    if (finite > 0) {
        s.min = mn;
        s.max = mx;
        s.mean = mean;
        s.std = std::sqrt(m2 / static_cast<double>(finite));
    }
    s.l2 = std::sqrt(sumSq);
    s.zeroFraction = n ? static_cast<double>(zeros) / static_cast<double>(n) : 0;
    return s;
}

std::optional<TensorStats> TensorStatsCache::find(const std::string &name) const
{
    std::lock_guard lock(m_mutex);
    auto it = m_stats.find(name);
    if (it == m_stats.end())
        return std::nullopt;
    return it->second;
}

void TensorStatsCache::insert(const std::string &name, const TensorStats &stats)
{
    std::lock_guard lock(m_mutex);
    m_stats[name] = stats;
}

std::map<std::string, TensorStats> TensorStatsCache::snapshot() const
{
    std::lock_guard lock(m_mutex);
    return m_stats;
}

std::size_t TensorStatsCache::size() const
{
    std::lock_guard lock(m_mutex);
    return m_stats.size();
}

void computeAllTensorStats(const ModelHandle &model, TensorStatsCache &cache, JobContext &job)
{
    job.stage("tensor statistics");
    std::uint64_t totalBytes = 0, doneBytes = 0;
    for (const auto &t : model.tensors())
        if (t.loadable && dtypeIsFloatReadable(t.dtype))
            totalBytes += t.bytes;
    for (const auto &t : model.tensors()) {
        if (!t.loadable || !dtypeIsFloatReadable(t.dtype))
            continue;
        if (!cache.find(t.name)) {
            JobContext inner(job.stopToken(), {}, [&](double f) {
                job.progress(
                    static_cast<double>(doneBytes) + f * static_cast<double>(t.bytes), static_cast<double>(totalBytes));
            });
            cache.insert(t.name, computeTensorStats(model, t, &inner));
        }
        doneBytes += t.bytes;
        job.progress(static_cast<double>(doneBytes), static_cast<double>(totalBytes));
    }
}

} // namespace blockscope
